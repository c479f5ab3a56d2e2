/* cgm_veto_answer: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

typedef struct {
  cgm_node *node;
  bool accept;
  int asked;
  uint64_t value;
} host;

static void on_veto(void *ud, uint64_t token, const cgm_param_value *changes, size_t n) {
  host *h = ud;
  CHECK(n == 1 && changes[0].param == CGM_PARAM_SEND_WINDOW_SIZE);
  h->value = changes[0].value;
  h->asked++;
  FAIL_ON_ERR(cgm_veto_answer(h->node, token, h->accept, h->accept ? NULL : "maintenance window"));
}

typedef struct {
  cgm_node *node;
  uint64_t value;
  cgm_result result;
  cgm_change_outcome *outcome;
  volatile int done;
} call;

static void *propose(void *arg) {
  call *c = arg;
  c->result = cgm_propose_param(c->node, CGM_PARAM_SEND_WINDOW_SIZE, c->value, 10000, &c->outcome);
  c->done = 1;
  return NULL;
}

static cgm_result propose_and_dispatch(cgm_node *node, uint64_t value, cgm_change_outcome **out) {
  pthread_t t;
  call c;
  memset(&c, 0, sizeof c);
  c.node = node;
  c.value = value;
  CHECK(pthread_create(&t, NULL, propose, &c) == 0);
  while (!c.done)
    FAIL_ON_ERR(cgm_dispatch(node, CGM_DISPATCH_ONE));
  pthread_join(t, NULL);
  FAIL_ON_ERR(cgm_dispatch(node, CGM_DISPATCH_ALL));
  *out = c.outcome;
  return c.result;
}

int main(void) {
  test_cluster c;
  host h;
  cgm_callbacks cb;
  cgm_change_outcome *o = NULL;
  uint64_t v = 0;
  const char *reason = NULL;
  test_cluster_init(&c, 1);
  test_cluster_start_node(&c, 1, true);
  FAIL_ON_ERR(cgm_node_wait_ready(c.node[0], 5000));
  FAIL_ON_SUCCESS(cgm_veto_answer(NULL, 1, true, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_veto_answer(GARBAGE_NODE, 1, true, NULL), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_veto_answer(c.node[0], 1, false, NOT_UTF8), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  FAIL_ON_ERR(cgm_veto_answer(c.node[0], 424242, true, NULL)); /* ignored */
  memset(&h, 0, sizeof h);
  h.node = c.node[0];
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.user_data = &h;
  cb.on_veto = on_veto;
  FAIL_ON_ERR(cgm_node_set_callbacks(c.node[0], &cb));
  h.accept = false;
  FAIL_ON_SUCCESS(propose_and_dispatch(c.node[0], 32, &o), CGM_RESULT_VETOED);
  CHECK(h.asked == 1 && h.value == 32);
  FAIL_ON_ERR(cgm_change_outcome_reason(o, &reason));
  CHECK(reason != NULL && strstr(reason, "maintenance window") != NULL);
  cgm_change_outcome_free(o);
  FAIL_ON_ERR(cgm_get_param(c.node[0], CGM_PARAM_SEND_WINDOW_SIZE, &v));
  CHECK(v == 64);
  h.accept = true;
  FAIL_ON_ERR(propose_and_dispatch(c.node[0], 48, &o));
  cgm_change_outcome_free(o);
  FAIL_ON_ERR(cgm_get_param(c.node[0], CGM_PARAM_SEND_WINDOW_SIZE, &v));
  CHECK(v == 48);
  test_cluster_free(&c);
  PASS();
}
