/* cgm_get_param: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  uint64_t v = 0;
  test_cluster_start(&c, 1);
  FAIL_ON_SUCCESS(cgm_get_param(NULL, CGM_PARAM_HEARTBEAT_INTERVAL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_get_param(c.node[0], CGM_PARAM_HEARTBEAT_INTERVAL, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_get_param(GARBAGE_NODE, CGM_PARAM_HEARTBEAT_INTERVAL, &v), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_get_param(c.node[0], CGM_PARAM_COUNT, &v), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_ERR(cgm_get_param(c.node[0], CGM_PARAM_HEARTBEAT_INTERVAL, &v));
  CHECK(v == 1000);
  FAIL_ON_ERR(cgm_get_param(c.node[0], CGM_PARAM_MAX_FRAGMENT_SIZE, &v));
  CHECK(v == 1400);
  test_cluster_free(&c);
  PASS();
}
