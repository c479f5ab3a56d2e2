/* cgm_config_set_limit: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_config *cfg;
  cgm_node *node = NULL;
  cgm_change_outcome *o = NULL;
  test_cluster_init(&c, 1);
  cfg = test_config(&c, 1);
  FAIL_ON_SUCCESS(cgm_config_set_limit(NULL, CGM_PARAM_MAX_FRAGMENT_SIZE, 1400), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_set_limit(cfg, 42, 1400), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_SUCCESS(cgm_config_set_limit(cfg, CGM_PARAM_MAX_FRAGMENT_SIZE, 70000), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_ERR(cgm_config_set_limit(cfg, CGM_PARAM_MAX_FRAGMENT_SIZE, 1400));
  FAIL_ON_ERR(cgm_node_start(cfg, &node));
  FAIL_ON_ERR(cgm_node_wait_ready(node, 5000));
  /* A change beyond the limit fails this member's local apply. */
  FAIL_ON_SUCCESS(cgm_propose_param(node, CGM_PARAM_MAX_FRAGMENT_SIZE, 2000, 5000, &o), CGM_RESULT_ROLLED_BACK);
  CHECK_ERROR_MENTIONS("local limit");
  cgm_change_outcome_free(o);
  FAIL_ON_ERR(cgm_propose_param(node, CGM_PARAM_MAX_FRAGMENT_SIZE, 1200, 5000, &o));
  cgm_change_outcome_free(o);
  FAIL_ON_ERR(cgm_node_free(node));
  cgm_config_free(cfg);
  PASS();
}
