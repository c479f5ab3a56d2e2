/* cgm_core_free: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  cgm_core_free(NULL);
  test_sim_formed(&s);
  test_sim_free(&s);
  PASS();
}
