/* cgm_param_parse_value: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  uint64_t v = 7;
  FAIL_ON_SUCCESS(cgm_param_parse_value(CGM_PARAM_HEARTBEAT_INTERVAL, NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_param_parse_value(CGM_PARAM_HEARTBEAT_INTERVAL, "2s", NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_param_parse_value(99, "2s", &v), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_SUCCESS(cgm_param_parse_value(CGM_PARAM_HEARTBEAT_INTERVAL, "5 parsecs", &v), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_SUCCESS(cgm_param_parse_value(CGM_PARAM_SEND_WINDOW_SIZE, "5s", &v), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_SUCCESS(cgm_param_parse_value(CGM_PARAM_HEARTBEAT_INTERVAL, NOT_UTF8, &v), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  CHECK(v == 7);
  FAIL_ON_ERR(cgm_param_parse_value(CGM_PARAM_HEARTBEAT_INTERVAL, "2s", &v));
  CHECK(v == 2000);
  FAIL_ON_ERR(cgm_param_parse_value(CGM_PARAM_HEARTBEAT_INTERVAL, "500ms", &v));
  CHECK(v == 500);
  FAIL_ON_ERR(cgm_param_parse_value(CGM_PARAM_MAX_FRAGMENT_SIZE, "1400", &v));
  CHECK(v == 1400);
  PASS();
}
