/*
 * Three nodes in one process: each member answers a status query from its own
 * record; a change commits on every member; a change vetoed by member 3's
 * host is rolled back on every member, with the same outcome everywhere.
 *
 * The proposer decides first; every other member decides when the last ACK
 * of round 2 reaches it, so values are read on a member only after that
 * member's own on_change (reading them at once failed under valgrind in CI:
 * member 2 still held the vetoed value between the rounds).
 */
#include "test.h"

typedef struct {
  cgm_node *node;
  int vetoes;
  _Atomic int changes;
  uint64_t last_seq;
  bool last_committed;
} host;

static void on_veto(void *ud, uint64_t token, const cgm_param_value *ch, size_t n) {
  host *h = ud;
  bool refuse = n == 1 && ch[0].value == 13;
  h->vetoes++;
  FAIL_ON_ERR(cgm_veto_answer(h->node, token, !refuse, "13 is unlucky"));
}

static void on_change(void *ud, const cgm_change_outcome *o) {
  host *h = ud;
  FAIL_ON_ERR(cgm_change_outcome_seq(o, &h->last_seq));
  FAIL_ON_ERR(cgm_change_outcome_committed(o, &h->last_committed));
  h->changes++;
}

static volatile int stop;

/* Waits (up to 10 s) until every host has seen `n` change outcomes. */
static void wait_changes(host *hosts, int n) {
  for (int tries = 0; tries < 1000; tries++) {
    if (hosts[0].changes >= n && hosts[1].changes >= n && hosts[2].changes >= n)
      return;
    test_sleep_us(10000);
  }
  FAIL("change outcomes seen: %d %d %d, expected %d each", (int)hosts[0].changes,
       (int)hosts[1].changes, (int)hosts[2].changes, n);
}

static void *dispatcher(void *arg) {
  host *h = arg;
  while (!stop && cgm_dispatch(h->node, CGM_DISPATCH_ALL | CGM_DISPATCH_BLOCKING) == CGM_RESULT_OK) {
  }
  return NULL;
}

int main(void) {
  test_cluster c;
  host hosts[3];
  pthread_t threads[3];
  cgm_change_outcome *o = NULL;
  uint64_t v = 0;
  test_cluster_init(&c, 3);
  test_cluster_start_node(&c, 1, false);
  test_cluster_start_node(&c, 2, false);
  test_cluster_start_node(&c, 3, true); /* member 3 asks its host */
  for (unsigned i = 0; i < 3; i++)
    FAIL_ON_ERR(cgm_node_wait_ready(c.node[i], 10000));
  for (unsigned i = 0; i < 3; i++) {
    cgm_callbacks cb;
    memset(&hosts[i], 0, sizeof hosts[i]);
    hosts[i].node = c.node[i];
    memset(&cb, 0, sizeof cb);
    cb.size = sizeof cb;
    cb.user_data = &hosts[i];
    cb.on_veto = on_veto;
    cb.on_change = on_change;
    FAIL_ON_ERR(cgm_node_set_callbacks(c.node[i], &cb));
    CHECK(pthread_create(&threads[i], NULL, dispatcher, &hosts[i]) == 0);
  }

  /* Every member answers for itself. */
  for (uint32_t m = 1; m <= 3; m++) {
    cgm_status *st = NULL;
    uint32_t id = 0, phase = 0;
    size_t members = 0;
    FAIL_ON_ERR(cgm_query_status(c.node[0], m, 5000, &st));
    FAIL_ON_ERR(cgm_status_node(st, &id));
    FAIL_ON_ERR(cgm_status_member_count(st, &members));
    FAIL_ON_ERR(cgm_status_phase(st, &phase));
    CHECK(id == m && members == 3 && phase == CGM_PHASE_IDLE);
    cgm_status_free(st);
  }

  /* A change commits on every member (member 3's host accepts it). */
  FAIL_ON_ERR(cgm_propose_param(c.node[1], CGM_PARAM_SEND_WINDOW_SIZE, 32, 10000, &o));
  cgm_change_outcome_free(o);
  wait_changes(hosts, 1);
  for (unsigned i = 0; i < 3; i++) {
    FAIL_ON_ERR(cgm_get_param(c.node[i], CGM_PARAM_SEND_WINDOW_SIZE, &v));
    CHECK(v == 32);
  }

  /* Member 3's host vetoes 13: rolled back on every member. */
  FAIL_ON_SUCCESS(cgm_propose_param(c.node[0], CGM_PARAM_SEND_WINDOW_SIZE, 13, 10000, &o), CGM_RESULT_VETOED);
  CHECK_ERROR_MENTIONS("13 is unlucky");
  {
    size_t n = 0;
    bool committed = true, ok = true;
    uint32_t id = 0;
    const char *reason = NULL;
    FAIL_ON_ERR(cgm_change_outcome_committed(o, &committed));
    FAIL_ON_ERR(cgm_change_outcome_member_count(o, &n));
    CHECK(!committed && n == 3);
    FAIL_ON_ERR(cgm_change_outcome_member(o, 2, &id, &ok, &reason));
    CHECK(id == 3 && !ok && strstr(reason, "vetoed: 13 is unlucky") != NULL);
    FAIL_ON_ERR(cgm_change_outcome_member(o, 0, &id, &ok, &reason));
    CHECK(id == 1 && ok);
  }
  cgm_change_outcome_free(o);
  CHECK(hosts[2].vetoes == 2 && hosts[0].vetoes == 0);

  /* Every member saw both outcomes, the same ones, and holds the old value. */
  wait_changes(hosts, 2);
  for (unsigned i = 0; i < 3; i++) {
    CHECK(hosts[i].changes == 2 && !hosts[i].last_committed && hosts[i].last_seq == hosts[0].last_seq);
    FAIL_ON_ERR(cgm_get_param(c.node[i], CGM_PARAM_SEND_WINDOW_SIZE, &v));
    CHECK(v == 32);
  }

  stop = 1;
  test_cluster_free(&c); /* ends the blocking dispatches */
  for (unsigned i = 0; i < 3; i++)
    pthread_join(threads[i], NULL);
  PASS();
}
