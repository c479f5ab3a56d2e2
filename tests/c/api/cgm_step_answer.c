/* cgm_step_answer: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

typedef struct {
  cgm_node *node;
  const char *failure;
  int steps;
} host;

static void on_step(void *ud, uint64_t token, uint64_t seq, uint32_t round_index, const uint8_t *payload, size_t len) {
  host *h = ud;
  uint8_t answer[2];
  (void)seq;
  CHECK(len == 4 && memcmp(payload, "ping", 4) == 0);
  answer[0] = 'r';
  answer[1] = (uint8_t)('0' + round_index);
  h->steps++;
  FAIL_ON_ERR(cgm_step_answer(h->node, token, answer, sizeof answer, h->failure));
}

typedef struct {
  cgm_node *node;
  cgm_result result;
  cgm_change_outcome *outcome;
  volatile int done;
} call;

static void *run(void *arg) {
  call *c = arg;
  c->result = cgm_run_host_protocol(c->node, (const uint8_t *)"ping", 4, 2, 10000, &c->outcome);
  c->done = 1;
  return NULL;
}

/* Runs a 2-round host protocol from node 1 while this thread dispatches both nodes. */
static cgm_result run_and_dispatch(test_cluster *tc, host *hosts, cgm_change_outcome **out) {
  pthread_t t;
  call c;
  memset(&c, 0, sizeof c);
  c.node = tc->node[0];
  CHECK(pthread_create(&t, NULL, run, &c) == 0);
  while (!c.done) {
    for (unsigned i = 0; i < tc->n; i++)
      FAIL_ON_ERR(cgm_dispatch(hosts[i].node, CGM_DISPATCH_ALL));
    test_sleep_us(1000);
  }
  pthread_join(t, NULL);
  *out = c.outcome;
  return c.result;
}

int main(void) {
  test_cluster c;
  host hosts[2];
  cgm_callbacks cb;
  cgm_change_outcome *o = NULL;
  bool ok = true;
  uint32_t id = 0;
  const char *reason = NULL;
  test_cluster_start(&c, 2);
  FAIL_ON_SUCCESS(cgm_step_answer(NULL, 1, NULL, 0, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_step_answer(GARBAGE_NODE, 1, NULL, 0, NULL), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_step_answer(c.node[0], 1, NULL, 3, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_step_answer(c.node[0], 1, NULL, 0, NOT_UTF8), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  /* A token nobody waits for is ignored. */
  FAIL_ON_ERR(cgm_step_answer(c.node[0], 999999, NULL, 0, NULL));
  for (unsigned i = 0; i < 2; i++) {
    hosts[i].node = c.node[i];
    hosts[i].failure = i == 1 ? "disk full" : NULL;
    hosts[i].steps = 0;
    memset(&cb, 0, sizeof cb);
    cb.size = sizeof cb;
    cb.user_data = &hosts[i];
    cb.on_step = on_step;
    FAIL_ON_ERR(cgm_node_set_callbacks(c.node[i], &cb));
  }
  /* Member 2's host fails its step: the protocol does not commit. */
  FAIL_ON_SUCCESS(run_and_dispatch(&c, hosts, &o), CGM_RESULT_ROLLED_BACK);
  FAIL_ON_ERR(cgm_change_outcome_member(o, 1, &id, &ok, &reason));
  CHECK(id == 2 && !ok && reason != NULL && strstr(reason, "disk full") != NULL);
  cgm_change_outcome_free(o);
  test_cluster_free(&c);
  PASS();
}
