/* cgm_param_is_global: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  bool g = false;
  FAIL_ON_SUCCESS(cgm_param_is_global(CGM_PARAM_HEARTBEAT_INTERVAL, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_param_is_global(CGM_PARAM_COUNT, &g), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_ERR(cgm_param_is_global(CGM_PARAM_HEARTBEAT_INTERVAL, &g));
  CHECK(g);
  FAIL_ON_ERR(cgm_param_is_global(CGM_PARAM_HEARTBEAT_FAILURE_THRESHOLD, &g));
  CHECK(!g);
  FAIL_ON_ERR(cgm_param_is_global(CGM_PARAM_SEND_WINDOW_SIZE, &g));
  CHECK(g);
  PASS();
}
