/* cgm_config_set_bind: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_config *cfg;
  cgm_node *node = NULL;
  char addr[64];
  test_cluster_init(&c, 1);
  cfg = test_config(&c, 1);
  FAIL_ON_SUCCESS(cgm_config_set_bind(NULL, "127.0.0.1:0"), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_set_bind(cfg, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_set_bind(cfg, "not an address"), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_set_bind(cfg, NOT_UTF8), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  snprintf(addr, sizeof addr, "0.0.0.0:%u", c.ports[0]);
  FAIL_ON_ERR(cgm_config_set_bind(cfg, addr));
  FAIL_ON_ERR(cgm_node_start(cfg, &node));
  FAIL_ON_ERR(cgm_node_wait_ready(node, 5000));
  FAIL_ON_ERR(cgm_node_free(node));
  cgm_config_free(cfg);
  PASS();
}
