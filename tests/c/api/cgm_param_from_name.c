/* cgm_param_from_name: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_param p = 77;
  FAIL_ON_SUCCESS(cgm_param_from_name(NULL, &p), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_param_from_name("send-window-size", NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_param_from_name("send-windw-size", &p), CGM_RESULT_INVALID_PARAMETER);
  CHECK_ERROR_MENTIONS("unknown parameter");
  FAIL_ON_SUCCESS(cgm_param_from_name("\xff", &p), CGM_RESULT_INVALID_ARGUMENT);
  CHECK(p == 77); /* not written on failure */
  FAIL_ON_ERR(cgm_param_from_name("send-window-size", &p));
  CHECK(p == CGM_PARAM_SEND_WINDOW_SIZE);
  FAIL_ON_ERR(cgm_param_from_name("HEARTBEAT_INTERVAL", &p));
  CHECK(p == CGM_PARAM_HEARTBEAT_INTERVAL);
  for (uint32_t q = 0; q < CGM_PARAM_COUNT; q++) {
    FAIL_ON_ERR(cgm_param_from_name(cgm_param_name(q), &p));
    CHECK(p == q);
  }
  PASS();
}
