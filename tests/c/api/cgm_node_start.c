/* cgm_node_start: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_config *cfg = NULL;
  cgm_node *node = NULL;
  char addr[64];
  int s;
  struct sockaddr_in a;
  test_cluster_init(&c, 1);
  cfg = test_config(&c, 1);
  FAIL_ON_SUCCESS(cgm_node_start(NULL, &node), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_node_start(cfg, NULL), CGM_RESULT_NULL_ARGUMENT);
  cgm_config_free(cfg);
  /* No entry for this node. */
  FAIL_ON_ERR(cgm_config_new(2, "test", &cfg));
  snprintf(addr, sizeof addr, "127.0.0.1:%u", c.ports[0]);
  FAIL_ON_ERR(cgm_config_add_node(cfg, 1, addr));
  FAIL_ON_ERR(cgm_config_set_insecure(cfg, true));
  FAIL_ON_SUCCESS(cgm_node_start(cfg, &node), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("node_id 2");
  CHECK(node == NULL);
  cgm_config_free(cfg);
  /* The port is taken. */
  s = socket(AF_INET, SOCK_DGRAM, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)c.ports[0]);
  CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
  cfg = test_config(&c, 1);
  FAIL_ON_SUCCESS(cgm_node_start(cfg, &node), CGM_RESULT_IO);
  CHECK_ERROR_MENTIONS("cannot bind");
  close(s);
  FAIL_ON_ERR(cgm_node_start(cfg, &node));
  CHECK(node != NULL);
  cgm_config_free(cfg); /* the node keeps its own copy */
  FAIL_ON_ERR(cgm_node_wait_ready(node, 5000));
  FAIL_ON_ERR(cgm_node_free(node));
  PASS();
}
