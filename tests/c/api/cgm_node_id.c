/* cgm_node_id: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  uint32_t id = 0;
  test_cluster_start(&c, 2);
  FAIL_ON_SUCCESS(cgm_node_id(NULL, &id), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_node_id(c.node[0], NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_node_id(GARBAGE_NODE, &id), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_ERR(cgm_node_id(c.node[1], &id));
  CHECK(id == 2);
  test_cluster_free(&c);
  PASS();
}
