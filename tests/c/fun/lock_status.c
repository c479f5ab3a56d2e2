/*
 * A member blocked on a named local lock answers status queries, naming the
 * lock and how long it has waited; the other members name it as the one that
 * has not ACKed. Releasing the lock lets the protocol complete.
 */
#include "test.h"

typedef struct {
  cgm_node *node;
  cgm_result result;
  volatile int done;
} call;

static void *run(void *arg) {
  call *c = arg;
  cgm_change_outcome *o = NULL;
  c->result = cgm_run_protocol(c->node, (const uint8_t *)"reconfigure", 11, 1, "transport-config", 20000, &o);
  cgm_change_outcome_free(o);
  c->done = 1;
  return NULL;
}

int main(void) {
  test_cluster c;
  call call1;
  pthread_t t;
  uint32_t phase = 0, waiting = 0, id = 0;
  const char *name = NULL;
  uint64_t waited = 0, waited2 = 0;
  size_t n = 0;
  cgm_status *st = NULL;
  int tries = 0;

  test_cluster_start(&c, 3);
  FAIL_ON_ERR(cgm_lock_acquire(c.node[1], "transport-config")); /* member 2's host holds it */
  memset(&call1, 0, sizeof call1);
  call1.node = c.node[0];
  CHECK(pthread_create(&t, NULL, run, &call1) == 0);

  /* Member 2, asked through member 1, names the lock it waits on. */
  for (;;) {
    FAIL_ON_ERR(cgm_query_status(c.node[0], 2, 5000, &st));
    FAIL_ON_ERR(cgm_status_phase(st, &phase));
    if (phase == CGM_PHASE_WAITING_LOCAL)
      break;
    cgm_status_free(st);
    CHECK(tries++ < 500);
    test_sleep_us(10000);
  }
  FAIL_ON_ERR(cgm_status_waiting(st, &waiting));
  FAIL_ON_ERR(cgm_status_waiting_resource(st, &name));
  CHECK(waiting == CGM_WAITING_LOCK && name != NULL && strcmp(name, "transport-config") == 0);
  FAIL_ON_ERR(cgm_status_waited_us(st, &waited));
  cgm_status_free(st);
  test_sleep_us(100000);
  FAIL_ON_ERR(cgm_query_status(c.node[2], 2, 5000, &st));
  FAIL_ON_ERR(cgm_status_waited_us(st, &waited2));
  CHECK(waited2 >= waited + 90000); /* still waiting, for longer */
  cgm_status_free(st);

  /* Members 1 and 3 wait on ACKs and name member 2 as the one missing. */
  for (uint32_t m = 1; m <= 3; m += 2) {
    tries = 0;
    for (;;) {
      FAIL_ON_ERR(cgm_query_status(c.node[2], m, 5000, &st));
      FAIL_ON_ERR(cgm_status_waiting(st, &waiting));
      FAIL_ON_ERR(cgm_status_not_acked_count(st, &n));
      if (waiting == CGM_WAITING_ACKS && n == 1)
        break;
      cgm_status_free(st);
      CHECK(tries++ < 500);
      test_sleep_us(10000);
    }
    FAIL_ON_ERR(cgm_status_not_acked(st, 0, &id));
    CHECK(id == 2);
    cgm_status_free(st);
  }
  CHECK(!call1.done);

  FAIL_ON_ERR(cgm_lock_release(c.node[1], "transport-config"));
  pthread_join(t, NULL);
  FAIL_ON_ERR(call1.result);
  FAIL_ON_ERR(cgm_query_status(c.node[0], 2, 5000, &st));
  FAIL_ON_ERR(cgm_status_waiting(st, &waiting));
  CHECK(waiting == CGM_WAITING_NONE);
  cgm_status_free(st);
  test_cluster_free(&c);
  PASS();
}
