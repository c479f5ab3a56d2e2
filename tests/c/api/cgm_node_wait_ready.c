/* cgm_node_wait_ready: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  test_cluster_init(&c, 2);
  test_cluster_start_node(&c, 1, false);
  FAIL_ON_SUCCESS(cgm_node_wait_ready(NULL, 100), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_node_wait_ready(GARBAGE_NODE, 100), CGM_RESULT_BAD_HANDLE);
  /* Node 2 is not up: not ready. */
  FAIL_ON_SUCCESS(cgm_node_wait_ready(c.node[0], 200), CGM_RESULT_TIMEOUT);
  test_cluster_start_node(&c, 2, false);
  FAIL_ON_ERR(cgm_node_wait_ready(c.node[0], 10000));
  FAIL_ON_ERR(cgm_node_wait_ready(c.node[1], 10000));
  test_cluster_free(&c);
  PASS();
}
