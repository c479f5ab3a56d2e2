/*
 * A freed or garbage node pointer gives CGM_RESULT_BAD_HANDLE from every node
 * call instead of a crash, and freeing a node while other threads use it is
 * safe: their calls end with CGM_RESULT_SHUT_DOWN or CGM_RESULT_BAD_HANDLE.
 */
#include "test.h"

static void all_refused(cgm_node *node) {
  cgm_status *st = NULL;
  cgm_change_outcome *o = NULL;
  cgm_param_value ch = {CGM_PARAM_SEND_WINDOW_SIZE, 32};
  cgm_callbacks cb;
  uint32_t id;
  uint64_t v;
  bool b;
  int fd;
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  FAIL_ON_SUCCESS(cgm_node_id(node, &id), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_node_wait_ready(node, 10), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_node_wait_quorum(node, 10), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_query_status(node, 1, 10, &st), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_propose_param(node, CGM_PARAM_SEND_WINDOW_SIZE, 32, 10, &o), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_propose_params(node, &ch, 1, 10, &o), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_get_param(node, CGM_PARAM_SEND_WINDOW_SIZE, &v), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_run_protocol(node, NULL, 0, 1, NULL, 10, &o), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_run_host_protocol(node, NULL, 0, 1, 10, &o), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_lock_acquire(node, "a"), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_lock_try_acquire(node, "a", &b), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_lock_release(node, "a"), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_veto_answer(node, 1, true, NULL), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_step_answer(node, 1, NULL, 0, NULL), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_fd_get(node, &fd), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_dispatch(node, CGM_DISPATCH_ALL), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_node_set_callbacks(node, &cb), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_node_free(node), CGM_RESULT_BAD_HANDLE);
  CHECK(st == NULL && o == NULL);
}

static void *hammer(void *arg) {
  cgm_node *node = arg;
  for (;;) {
    cgm_status *st = NULL;
    uint64_t v = 0;
    cgm_result r = cgm_query_status(node, 2, 1000, &st);
    if (r == CGM_RESULT_OK) {
      cgm_status_free(st);
      r = cgm_get_param(node, CGM_PARAM_HEARTBEAT_INTERVAL, &v);
    }
    if (r == CGM_RESULT_BAD_HANDLE || r == CGM_RESULT_SHUT_DOWN)
      return NULL;
    FAIL_ON_ERR(r);
  }
}

int main(void) {
  test_cluster c;
  pthread_t t[4];
  cgm_node *freed;
  all_refused(GARBAGE_NODE);
  test_cluster_start(&c, 1);
  freed = c.node[0];
  FAIL_ON_ERR(cgm_node_free(freed));
  all_refused(freed);
  /* Another node starting does not revive the freed pointer. */
  test_cluster_start(&c, 1);
  all_refused(freed);
  FAIL_ON_ERR(cgm_node_free(c.node[0]));

  /* Freed while four threads use it. */
  test_cluster_start(&c, 2);
  for (int i = 0; i < 4; i++)
    CHECK(pthread_create(&t[i], NULL, hammer, c.node[0]) == 0);
  test_sleep_us(200000);
  FAIL_ON_ERR(cgm_node_free(c.node[0]));
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  all_refused(c.node[0]);
  FAIL_ON_ERR(cgm_node_free(c.node[1]));
  PASS();
}
