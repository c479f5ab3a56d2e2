/* cgm_config_set_veto_timeout: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_config *cfg;
  cgm_node *node = NULL;
  cgm_change_outcome *o = NULL;
  test_cluster_init(&c, 1);
  cfg = test_config(&c, 1);
  FAIL_ON_SUCCESS(cgm_config_set_veto_timeout(NULL, 100), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_set_veto_timeout(cfg, 0), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_ERR(cgm_config_set_veto_timeout(cfg, 100));
  FAIL_ON_ERR(cgm_config_set_veto_hook(cfg, true));
  FAIL_ON_ERR(cgm_node_start(cfg, &node));
  FAIL_ON_ERR(cgm_node_wait_ready(node, 5000));
  /* Nobody dispatches: the veto request times out after 100 ms, a veto. */
  FAIL_ON_SUCCESS(cgm_propose_param(node, CGM_PARAM_SEND_WINDOW_SIZE, 32, 5000, &o), CGM_RESULT_VETOED);
  CHECK_ERROR_MENTIONS("timed out");
  cgm_change_outcome_free(o);
  FAIL_ON_ERR(cgm_node_free(node));
  cgm_config_free(cfg);
  PASS();
}
