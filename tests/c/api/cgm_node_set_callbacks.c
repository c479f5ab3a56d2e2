/* cgm_node_set_callbacks: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

static int logs, views;
static void on_log(void *ud, uint32_t level, const char *target, const char *message) {
  CHECK(ud == &logs);
  CHECK(level >= CGM_LOG_ERROR && level <= CGM_LOG_TRACE && target != NULL && message != NULL);
  logs++;
}
static void on_log_never(void *ud, uint32_t level, const char *target, const char *message) {
  (void)ud; (void)level; (void)target; (void)message;
  FAIL("on_log beyond the caller's size was called");
}
static void on_view(void *ud, uint64_t epoch, uint32_t leader, const uint32_t *members, size_t n, bool quorum) {
  (void)ud; (void)epoch; (void)leader; (void)members; (void)n; (void)quorum;
  views++;
}

int main(void) {
  test_cluster c;
  cgm_callbacks cb;
  test_cluster_init(&c, 2);
  test_cluster_start_node(&c, 1, false);
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  FAIL_ON_SUCCESS(cgm_node_set_callbacks(NULL, &cb), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_node_set_callbacks(c.node[0], NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_node_set_callbacks(GARBAGE_NODE, &cb), CGM_RESULT_BAD_HANDLE);
  cb.size = 4;
  FAIL_ON_SUCCESS(cgm_node_set_callbacks(c.node[0], &cb), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_ERR(cgm_set_log_level(CGM_LOG_DEBUG));
  /* An older caller's smaller struct: what lies beyond `size` is not read. */
  cb.size = offsetof(cgm_callbacks, on_log);
  cb.on_view = on_view;
  cb.on_log = on_log_never;
  FAIL_ON_ERR(cgm_node_set_callbacks(c.node[0], &cb));
  test_cluster_start_node(&c, 2, false); /* a view change, logged */
  FAIL_ON_ERR(cgm_node_wait_ready(c.node[0], 10000));
  FAIL_ON_ERR(cgm_dispatch(c.node[0], CGM_DISPATCH_ALL));
  CHECK(views >= 1);
  /* The whole struct: log records arrive. */
  cb.size = sizeof cb;
  cb.user_data = &logs;
  cb.on_log = on_log;
  FAIL_ON_ERR(cgm_node_set_callbacks(c.node[0], &cb));
  FAIL_ON_ERR(cgm_node_free(c.node[1])); /* node 1 installs a view without 2 */
  /* Up to 20 s: failure detection under valgrind on a slow, busy machine. */
  for (int i = 0; i < 2000 && logs == 0; i++) {
    test_sleep_us(10000);
    FAIL_ON_ERR(cgm_dispatch(c.node[0], CGM_DISPATCH_ALL));
  }
  CHECK(logs > 0);
  FAIL_ON_ERR(cgm_set_log_level(CGM_LOG_WARN));
  FAIL_ON_ERR(cgm_node_free(c.node[0]));
  PASS();
}
