/* cgm_node_wait_quorum: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  test_cluster_init(&c, 3);
  test_cluster_start_node(&c, 1, false);
  FAIL_ON_SUCCESS(cgm_node_wait_quorum(NULL, 100), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_node_wait_quorum(GARBAGE_NODE, 100), CGM_RESULT_BAD_HANDLE);
  /* One of three: no quorum. */
  FAIL_ON_SUCCESS(cgm_node_wait_quorum(c.node[0], 200), CGM_RESULT_TIMEOUT);
  test_cluster_start_node(&c, 2, false);
  test_cluster_start_node(&c, 3, false);
  FAIL_ON_ERR(cgm_node_wait_quorum(c.node[0], 10000));
  /* Node 3 leaves: two of three keep quorum, though the cluster is not whole. */
  FAIL_ON_ERR(cgm_node_free(c.node[2]));
  FAIL_ON_SUCCESS(cgm_node_wait_ready(c.node[0], 300), CGM_RESULT_TIMEOUT);
  FAIL_ON_ERR(cgm_node_wait_quorum(c.node[0], 10000));
  FAIL_ON_ERR(cgm_node_free(c.node[0]));
  FAIL_ON_ERR(cgm_node_free(c.node[1]));
  PASS();
}
