/* cgm_config_set_param: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_config *cfg;
  cgm_node *node = NULL;
  uint64_t v = 0;
  test_cluster_init(&c, 1);
  cfg = test_config(&c, 1);
  FAIL_ON_SUCCESS(cgm_config_set_param(NULL, CGM_PARAM_SEND_WINDOW_SIZE, 32), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_set_param(cfg, CGM_PARAM_COUNT, 32), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_SUCCESS(cgm_config_set_param(cfg, CGM_PARAM_SEND_WINDOW_SIZE, 0), CGM_RESULT_INVALID_PARAMETER);
  CHECK_ERROR_MENTIONS("send-window-size = 0");
  CHECK_ERROR_MENTIONS("1..=4096");
  FAIL_ON_SUCCESS(cgm_config_set_param(cfg, CGM_PARAM_HEARTBEAT_TIMEOUT, 500), CGM_RESULT_INVALID_PARAMETER);
  CHECK_ERROR_MENTIONS("must exceed heartbeat-interval");
  /* A cross-parameter refusal names the parameter being set and the value it conflicts with. */
  FAIL_ON_SUCCESS(cgm_config_set_param(cfg, CGM_PARAM_HEARTBEAT_INTERVAL, 4000), CGM_RESULT_INVALID_PARAMETER);
  CHECK_ERROR_MENTIONS("heartbeat-interval = 4000 is invalid: must be below heartbeat-timeout (3000ms)");
  FAIL_ON_ERR(cgm_config_set_param(cfg, CGM_PARAM_SEND_WINDOW_SIZE, 32));
  FAIL_ON_ERR(cgm_node_start(cfg, &node));
  FAIL_ON_ERR(cgm_get_param(node, CGM_PARAM_SEND_WINDOW_SIZE, &v));
  CHECK(v == 32);
  /* The refused values left the configuration unchanged. */
  FAIL_ON_ERR(cgm_get_param(node, CGM_PARAM_HEARTBEAT_TIMEOUT, &v));
  CHECK(v == 3000);
  FAIL_ON_ERR(cgm_node_free(node));
  cgm_config_free(cfg);
  PASS();
}
