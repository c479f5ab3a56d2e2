/* cgm_change_outcome_free: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_change_outcome_free(NULL);
  cgm_change_outcome_free(test_outcome_committed());
  PASS();
}
