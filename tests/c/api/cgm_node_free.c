/* cgm_node_free: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_node *node;
  FAIL_ON_ERR(cgm_node_free(NULL));
  FAIL_ON_SUCCESS(cgm_node_free(GARBAGE_NODE), CGM_RESULT_BAD_HANDLE);
  test_cluster_start(&c, 1);
  node = c.node[0];
  FAIL_ON_ERR(cgm_node_free(node));
  FAIL_ON_SUCCESS(cgm_node_free(node), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_node_id(node, &(uint32_t){0}), CGM_RESULT_BAD_HANDLE);
  PASS();
}
