/* cgm_status_counter: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *st = test_status_idle();
  uint64_t v = 0;
  FAIL_ON_SUCCESS(cgm_status_counter(NULL, CGM_COUNTER_VIEWS_INSTALLED, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_counter(st, CGM_COUNTER_VIEWS_INSTALLED, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_counter(st, CGM_COUNTER_COUNT, &v), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_ERR(cgm_status_counter(st, CGM_COUNTER_VIEWS_INSTALLED, &v));
  CHECK(v >= 1);
  FAIL_ON_ERR(cgm_status_counter(st, CGM_COUNTER_AUTH_FAILED, &v));
  CHECK(v == 0);
  for (uint32_t c = 0; c < CGM_COUNTER_COUNT; c++)
    FAIL_ON_ERR(cgm_status_counter(st, c, &v));
  cgm_status_free(st);
  PASS();
}
