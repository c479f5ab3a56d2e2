/* cgm_status_cluster_node: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_status *st = NULL;
  uint32_t id = 0;
  const char *addr = NULL;
  char want[64];
  size_t n = 0;
  test_cluster_start(&c, 2);
  FAIL_ON_ERR(cgm_query_status(c.node[0], 2, 2000, &st));
  FAIL_ON_SUCCESS(cgm_status_cluster_node(NULL, 0, &id, &addr), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_cluster_node(st, 0, NULL, &addr), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_cluster_node(st, 0, &id, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_cluster_node(st, 2, &id, &addr), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("out of range");
  CHECK(addr == NULL);
  FAIL_ON_ERR(cgm_status_cluster_node_count(st, &n));
  CHECK(n == 2);
  for (size_t i = 0; i < n; i++) {
    FAIL_ON_ERR(cgm_status_cluster_node(st, i, &id, &addr));
    snprintf(want, sizeof want, "127.0.0.1:%u", c.ports[i]);
    CHECK(id == i + 1 && addr != NULL && strcmp(addr, want) == 0);
  }
  test_cluster_free(&c);
  /* The string lives as long as the status. */
  CHECK(strcmp(addr, want) == 0);
  cgm_status_free(st);
  PASS();
}
