/* cgm_param_range: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  uint64_t lo = 0, hi = 0, def = 0;
  const char *unit = NULL;
  FAIL_ON_SUCCESS(cgm_param_range(CGM_PARAM_SEND_WINDOW_SIZE, NULL, &hi, &def, &unit), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_param_range(CGM_PARAM_SEND_WINDOW_SIZE, &lo, NULL, &def, &unit), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_param_range(CGM_PARAM_SEND_WINDOW_SIZE, &lo, &hi, NULL, &unit), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_param_range(CGM_PARAM_SEND_WINDOW_SIZE, &lo, &hi, &def, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_param_range(99, &lo, &hi, &def, &unit), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_ERR(cgm_param_range(CGM_PARAM_SEND_WINDOW_SIZE, &lo, &hi, &def, &unit));
  CHECK(lo == 1 && hi == 4096 && def == 64 && strcmp(unit, "messages") == 0);
  FAIL_ON_ERR(cgm_param_range(CGM_PARAM_HEARTBEAT_INTERVAL, &lo, &hi, &def, &unit));
  CHECK(lo == 1 && hi == 60000 && def == 1000 && strcmp(unit, "ms") == 0);
  PASS();
}
