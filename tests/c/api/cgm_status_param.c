/* cgm_status_param: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *st = test_status_idle();
  uint64_t eff = 0, conf = 0;
  FAIL_ON_SUCCESS(cgm_status_param(NULL, CGM_PARAM_SEND_WINDOW_SIZE, &eff, &conf), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_param(st, CGM_PARAM_SEND_WINDOW_SIZE, NULL, &conf), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_param(st, CGM_PARAM_SEND_WINDOW_SIZE, &eff, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_param(st, CGM_PARAM_COUNT, &eff, &conf), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_ERR(cgm_status_param(st, CGM_PARAM_SEND_WINDOW_SIZE, &eff, &conf));
  CHECK(eff == 64 && conf == 64);
  FAIL_ON_ERR(cgm_status_param(st, CGM_PARAM_HEARTBEAT_INTERVAL, &eff, &conf));
  CHECK(eff == 1000 && conf == 1000);
  cgm_status_free(st);
  PASS();
}
