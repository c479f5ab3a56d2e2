/* cgm_status_free: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status_free(NULL);
  cgm_status_free(test_status_idle());
  cgm_status_free(test_status_busy());
  PASS();
}
