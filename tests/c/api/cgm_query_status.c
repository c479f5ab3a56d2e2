/* cgm_query_status: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_status *st = NULL;
  uint32_t id = 0;
  test_cluster_start(&c, 3);
  FAIL_ON_ERR(cgm_node_free(c.node[2]));
  FAIL_ON_SUCCESS(cgm_query_status(NULL, 2, 1000, &st), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_query_status(c.node[0], 2, 1000, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_query_status(GARBAGE_NODE, 2, 1000, &st), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_query_status(c.node[0], 9, 1000, &st), CGM_RESULT_NOT_MEMBER);
  /* Member 3 is down: no answer. */
  FAIL_ON_SUCCESS(cgm_query_status(c.node[0], 3, 300, &st), CGM_RESULT_TIMEOUT);
  CHECK(st == NULL);
  FAIL_ON_ERR(cgm_query_status(c.node[0], 2, 5000, &st));
  FAIL_ON_ERR(cgm_status_node(st, &id));
  CHECK(id == 2); /* answered by member 2 */
  cgm_status_free(st);
  FAIL_ON_ERR(cgm_query_status(c.node[0], 1, 5000, &st));
  FAIL_ON_ERR(cgm_status_node(st, &id));
  CHECK(id == 1);
  cgm_status_free(st);
  FAIL_ON_ERR(cgm_node_free(c.node[0]));
  FAIL_ON_ERR(cgm_node_free(c.node[1]));
  PASS();
}
