/* cgm_config_set_encrypt: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_config *cfg = NULL;
  cgm_node *node = NULL;
  char addr[64];
  test_cluster_init(&c, 1);
  snprintf(addr, sizeof addr, "127.0.0.1:%u", c.ports[0]);
  FAIL_ON_ERR(cgm_config_new(1, "prod", &cfg));
  FAIL_ON_ERR(cgm_config_add_node(cfg, 1, addr));
  FAIL_ON_ERR(cgm_config_set_insecure(cfg, true));
  FAIL_ON_SUCCESS(cgm_config_set_encrypt(NULL, true), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_config_set_encrypt(cfg, true));
  /* Encryption needs a key. */
  FAIL_ON_SUCCESS(cgm_node_start(cfg, &node), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("encryption");
  FAIL_ON_ERR(cgm_config_set_key(cfg, TEST_KEY, sizeof TEST_KEY));
  FAIL_ON_ERR(cgm_node_start(cfg, &node));
  FAIL_ON_ERR(cgm_node_wait_ready(node, 5000));
  FAIL_ON_ERR(cgm_node_free(node));
  cgm_config_free(cfg);
  PASS();
}
