/* cgm_status_damped_count: NULL arguments first, then the good calls. */
#include "test.h"

int main(void) {
  cgm_status *idle = test_status_idle(), *damped = test_status_damped();
  size_t v = 9;
  FAIL_ON_SUCCESS(cgm_status_damped_count(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_damped_count(idle, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_status_damped_count(idle, &v));
  CHECK(v == 0);
  FAIL_ON_ERR(cgm_status_damped_count(damped, &v));
  CHECK(v == 1);
  cgm_status_free(idle);
  cgm_status_free(damped);
  PASS();
}
