/* cgm_status_damped: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *st = test_status_damped();
  uint32_t id = 0, exclusions = 0;
  uint64_t inc = 0, remaining = 0;
  FAIL_ON_SUCCESS(cgm_status_damped(NULL, 0, &id, &inc, &exclusions, &remaining), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_damped(st, 0, NULL, &inc, &exclusions, &remaining), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_damped(st, 0, &id, NULL, &exclusions, &remaining), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_damped(st, 0, &id, &inc, NULL, &remaining), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_damped(st, 0, &id, &inc, &exclusions, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_damped(st, 1, &id, &inc, &exclusions, &remaining), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_ERR(cgm_status_damped(st, 0, &id, &inc, &exclusions, &remaining));
  /* Member 3 (incarnation 102) was cut off twice: its second exclusion holds
   * it out for the first backoff, two view change timeouts (6 s by default). */
  CHECK(id == 3 && inc == 102 && exclusions == 2);
  CHECK(remaining > 0 && remaining <= 6000000);
  cgm_status_free(st);
  PASS();
}
