/* cgm_config_set_quorum: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_config *cfg;
  cgm_node *node = NULL;
  test_cluster_init(&c, 3);
  cfg = test_config(&c, 1);
  FAIL_ON_SUCCESS(cgm_config_set_quorum(NULL, false), CGM_RESULT_NULL_ARGUMENT);
  /* Alone among 3 configured nodes: quorum only when it is switched off. */
  FAIL_ON_ERR(cgm_config_set_quorum(cfg, false));
  FAIL_ON_ERR(cgm_node_start(cfg, &node));
  FAIL_ON_ERR(cgm_node_wait_quorum(node, 5000));
  FAIL_ON_ERR(cgm_node_free(node));
  FAIL_ON_ERR(cgm_config_set_quorum(cfg, true));
  FAIL_ON_ERR(cgm_node_start(cfg, &node));
  FAIL_ON_SUCCESS(cgm_node_wait_quorum(node, 300), CGM_RESULT_TIMEOUT);
  FAIL_ON_ERR(cgm_node_free(node));
  cgm_config_free(cfg);
  PASS();
}
