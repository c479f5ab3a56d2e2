/* cgm_status_generation: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *idle = test_status_idle(), *busy = test_status_busy();
  uint64_t v;
  memset(&v, 0, sizeof v);
  FAIL_ON_SUCCESS(cgm_status_generation(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_generation(idle, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_status_generation(idle, &v));
  CHECK(v == 0);
  cgm_status_free(idle);
  cgm_status_free(busy);
  PASS();
}
