/* cgm_config_set_join: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_config *cfg;
  cgm_node *node = NULL;
  char why[256];
  test_cluster_init(&c, 2);
  cfg = test_config(&c, 2);
  FAIL_ON_SUCCESS(cgm_config_set_join(NULL, true), CGM_RESULT_NULL_ARGUMENT);
  /* Node 2 joins through node 1, which is not running: it never starts a
   * cluster of its own, though it and node 1 are all its configuration
   * lists (without join, alone it would wait for node 1 too). */
  FAIL_ON_ERR(cgm_config_set_join(cfg, true));
  FAIL_ON_ERR(cgm_config_set_quorum(cfg, true));
  FAIL_ON_ERR(cgm_node_start(cfg, &node));
  FAIL_ON_SUCCESS(cgm_node_wait_quorum(node, 300), CGM_RESULT_TIMEOUT);
  FAIL_ON_ERR(cgm_node_free(node));
  cgm_config_free(cfg);
  /* A joining node that lists no member to contact is refused at start. */
  test_cluster_init(&c, 1);
  cfg = test_config(&c, 1);
  FAIL_ON_ERR(cgm_config_set_join(cfg, true));
  FAIL_ON_SUCCESS(cgm_node_start(cfg, &node), CGM_RESULT_INVALID_ARGUMENT);
  cgm_last_error(why, sizeof why);
  CHECK(strstr(why, "lists no member to contact") != NULL);
  FAIL_ON_ERR(cgm_config_set_join(cfg, false));
  FAIL_ON_ERR(cgm_node_start(cfg, &node));
  FAIL_ON_ERR(cgm_node_wait_quorum(node, 5000));
  FAIL_ON_ERR(cgm_node_free(node));
  cgm_config_free(cfg);
  PASS();
}
