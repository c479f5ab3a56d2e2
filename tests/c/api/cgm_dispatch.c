/* cgm_dispatch: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

static int views, changes;
static void on_view(void *ud, uint64_t epoch, uint32_t leader, const uint32_t *members, size_t n, bool quorum) {
  (void)ud; (void)epoch; (void)leader;
  CHECK(n >= 1 && members[0] == 1 && quorum);
  views++;
}
static void on_change(void *ud, const cgm_change_outcome *o) {
  bool committed = false;
  (void)ud;
  FAIL_ON_ERR(cgm_change_outcome_committed(o, &committed));
  CHECK(committed);
  changes++;
}
static void *free_later(void *arg) {
  test_sleep_us(200000);
  FAIL_ON_ERR(cgm_node_free(arg));
  return NULL;
}

int main(void) {
  test_cluster c;
  cgm_callbacks cb;
  cgm_change_outcome *o = NULL;
  pthread_t t;
  test_cluster_start(&c, 2);
  FAIL_ON_SUCCESS(cgm_dispatch(NULL, CGM_DISPATCH_ALL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_dispatch(GARBAGE_NODE, CGM_DISPATCH_ALL), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_dispatch(c.node[0], 0), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_dispatch(c.node[0], CGM_DISPATCH_ONE | CGM_DISPATCH_ALL), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_dispatch(c.node[0], CGM_DISPATCH_BLOCKING), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_dispatch(c.node[0], 8 | CGM_DISPATCH_ALL), CGM_RESULT_INVALID_ARGUMENT);
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.on_view = on_view;
  cb.on_change = on_change;
  FAIL_ON_ERR(cgm_node_set_callbacks(c.node[0], &cb));
  FAIL_ON_ERR(cgm_dispatch(c.node[0], CGM_DISPATCH_ALL));
  CHECK(views >= 1);
  FAIL_ON_ERR(cgm_propose_param(c.node[0], CGM_PARAM_SEND_WINDOW_SIZE, 32, 5000, &o));
  cgm_change_outcome_free(o);
  FAIL_ON_ERR(cgm_dispatch(c.node[0], CGM_DISPATCH_ONE | CGM_DISPATCH_BLOCKING));
  CHECK(changes == 1);
  FAIL_ON_ERR(cgm_dispatch(c.node[0], CGM_DISPATCH_ALL));
  /* A blocking dispatch ends when another thread frees the node. */
  CHECK(pthread_create(&t, NULL, free_later, c.node[0]) == 0);
  FAIL_ON_SUCCESS(cgm_dispatch(c.node[0], CGM_DISPATCH_ALL | CGM_DISPATCH_BLOCKING), CGM_RESULT_SHUT_DOWN);
  pthread_join(t, NULL);
  FAIL_ON_SUCCESS(cgm_dispatch(c.node[0], CGM_DISPATCH_ALL), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_ERR(cgm_node_free(c.node[1]));
  PASS();
}
