/* cgm_propose_node_change: NULL arguments first, then bad arguments, then the good calls. */
#include "test.h"

/* Waits (10 s) until `node`'s own node set has `count` nodes. */
static void wait_node_set(cgm_node *node, uint32_t self, size_t count) {
  size_t n = 0;
  for (int tries = 0; tries < 1000; tries++) {
    cgm_status *st = NULL;
    FAIL_ON_ERR(cgm_query_status(node, self, 2000, &st));
    FAIL_ON_ERR(cgm_status_cluster_node_count(st, &n));
    cgm_status_free(st);
    if (n == count)
      return;
    test_sleep_us(10000);
  }
  FAIL("node %u's node set has %zu nodes, expected %zu", self, n, count);
}

static cgm_result gated = CGM_RESULT_PANIC;
static void *run_gated(void *node) {
  cgm_change_outcome *o = NULL;
  gated = cgm_run_protocol(node, (const uint8_t *)"x", 1, 1, "gate", 20000, &o);
  cgm_change_outcome_free(o);
  return NULL;
}

static int removed;
static uint64_t removed_generation;
static void on_removed(void *ud, uint64_t generation) {
  (void)ud;
  removed++;
  removed_generation = generation;
}

/* Proposes `add` (one node, or none for id 0) and `rm` (one id, or none for 0)
 * from `node`, which must fail with `expected`, mention `text` and write no outcome. */
static void refused(cgm_node *node, uint32_t add_id, const char *addr, uint32_t rm, cgm_result expected, const char *text) {
  cgm_node_addr a;
  cgm_change_outcome *o = NULL;
  a.id = add_id;
  a.addr = addr;
  FAIL_ON_SUCCESS(cgm_propose_node_change(node, addr ? &a : NULL, addr ? 1 : 0, rm ? &rm : NULL, rm ? 1 : 0, 5000, &o), expected);
  CHECK_ERROR_MENTIONS(text);
  CHECK(o == NULL);
}

int main(void) {
  test_cluster c, lone;
  cgm_change_outcome *o = NULL;
  cgm_callbacks cb;
  char addr4[64], addr1[64];
  cgm_node_addr add4, pair[2];
  uint32_t rm = 4, two[2] = {2, 3};
  bool ok = false;
  const char *kind = NULL;
  uint64_t generation = 0;
  uint32_t phase = 0;
  pthread_t t;
  test_cluster_start(&c, 3);
  snprintf(addr4, sizeof addr4, "127.0.0.1:%u", test_free_port());
  snprintf(addr1, sizeof addr1, "127.0.0.1:%u", c.ports[0]);
  add4.id = 4;
  add4.addr = addr4;

  FAIL_ON_SUCCESS(cgm_propose_node_change(NULL, &add4, 1, NULL, 0, 5000, &o), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_propose_node_change(c.node[0], &add4, 1, NULL, 0, 5000, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_propose_node_change(c.node[0], NULL, 1, NULL, 0, 5000, &o), CGM_RESULT_NULL_ARGUMENT);
  CHECK_ERROR_MENTIONS("add");
  FAIL_ON_SUCCESS(cgm_propose_node_change(c.node[0], NULL, 0, NULL, 1, 5000, &o), CGM_RESULT_NULL_ARGUMENT);
  CHECK_ERROR_MENTIONS("remove");
  refused(c.node[0], 4, NULL, 0, CGM_RESULT_INVALID_ARGUMENT, "adds and removes nothing");
  pair[0].id = 4;
  pair[0].addr = NULL;
  FAIL_ON_SUCCESS(cgm_propose_node_change(c.node[0], pair, 1, NULL, 0, 5000, &o), CGM_RESULT_NULL_ARGUMENT);
  CHECK_ERROR_MENTIONS("add[0].addr");
  FAIL_ON_SUCCESS(cgm_propose_node_change(GARBAGE_NODE, &add4, 1, NULL, 0, 5000, &o), CGM_RESULT_BAD_HANDLE);

  /* Refused before anything is sent. */
  refused(c.node[0], 4, NOT_UTF8, 0, CGM_RESULT_INVALID_ARGUMENT, "not valid UTF-8");
  refused(c.node[0], 4, "localhost:7000", 0, CGM_RESULT_INVALID_ARGUMENT, "not ip:port");
  refused(c.node[0], 4, "127.0.0.1:0", 0, CGM_RESULT_INVALID_ARGUMENT, "port other than 0");
  refused(c.node[0], 2, addr4, 0, CGM_RESULT_INVALID_ARGUMENT, "node 2 is already in the cluster");
  refused(c.node[0], 0, addr4, 0, CGM_RESULT_INVALID_ARGUMENT, "node id 0 is reserved");
  refused(c.node[0], 4, addr1, 0, CGM_RESULT_INVALID_ARGUMENT, addr1);
  refused(c.node[0], 4, addr4, 4, CGM_RESULT_INVALID_ARGUMENT, "both added and removed");
  refused(c.node[0], 0, NULL, 9, CGM_RESULT_INVALID_ARGUMENT, "node 9 is not in the cluster");
  pair[0] = add4;
  pair[1] = add4;
  FAIL_ON_SUCCESS(cgm_propose_node_change(c.node[0], pair, 2, NULL, 0, 5000, &o), CGM_RESULT_INVALID_ARGUMENT);
  CHECK(o == NULL);
  FAIL_ON_SUCCESS(cgm_propose_node_change(c.node[0], NULL, 0, two, 2, 5000, &o), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("majority");
  CHECK(o == NULL);
  wait_node_set(c.node[0], 1, 3);

  /* Queued behind a protocol that waits on a lock member 2's host holds, the
   * change times out; it goes on and commits once the lock is released. */
  FAIL_ON_ERR(cgm_lock_acquire(c.node[1], "gate"));
  CHECK(pthread_create(&t, NULL, run_gated, c.node[0]) == 0);
  for (int tries = 0; phase != CGM_PHASE_WAITING_LOCAL; tries++) {
    cgm_status *st = NULL;
    CHECK(tries < 1000);
    test_sleep_us(10000);
    FAIL_ON_ERR(cgm_query_status(c.node[1], 2, 2000, &st));
    FAIL_ON_ERR(cgm_status_phase(st, &phase));
    cgm_status_free(st);
  }
  FAIL_ON_SUCCESS(cgm_propose_node_change(c.node[0], &add4, 1, NULL, 0, 300, &o), CGM_RESULT_TIMEOUT);
  CHECK(o == NULL);
  FAIL_ON_ERR(cgm_lock_release(c.node[1], "gate"));
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(gated == CGM_RESULT_OK);
  for (uint32_t id = 1; id <= 3; id++)
    wait_node_set(c.node[id - 1], id, 4);

  /* Node 4 never started: removing it commits (the view keeps its majority). */
  FAIL_ON_ERR(cgm_propose_node_change(c.node[1], NULL, 0, &rm, 1, 10000, &o));
  FAIL_ON_ERR(cgm_change_outcome_committed(o, &ok));
  FAIL_ON_ERR(cgm_change_outcome_kind(o, &kind));
  CHECK(ok && strcmp(kind, "node-change") == 0);
  cgm_change_outcome_free(o);
  o = NULL;
  wait_node_set(c.node[0], 1, 3);

  /* Removing a running member: it is told, leaves, and its host hears it. */
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.on_removed = on_removed;
  FAIL_ON_ERR(cgm_node_set_callbacks(c.node[2], &cb));
  rm = 3;
  FAIL_ON_ERR(cgm_propose_node_change(c.node[0], NULL, 0, &rm, 1, 10000, &o));
  FAIL_ON_ERR(cgm_change_outcome_committed(o, &ok));
  FAIL_ON_ERR(cgm_change_outcome_generation(o, &generation));
  CHECK(ok);
  cgm_change_outcome_free(o);
  o = NULL;
  for (int tries = 0; tries < 1000 && removed == 0; tries++) {
    FAIL_ON_ERR(cgm_dispatch(c.node[2], CGM_DISPATCH_ALL));
    test_sleep_us(10000);
  }
  CHECK(removed == 1 && removed_generation == generation);
  /* A removed node is no member: it proposes nothing. */
  FAIL_ON_SUCCESS(cgm_propose_node_change(c.node[2], &add4, 1, NULL, 0, 5000, &o), CGM_RESULT_NOT_MEMBER);
  CHECK(o == NULL);
  test_cluster_free(&c);

  /* A node alone of three has no quorum: nothing is sent. */
  test_cluster_init(&lone, 3);
  test_cluster_start_node(&lone, 1, false);
  FAIL_ON_SUCCESS(cgm_propose_node_change(lone.node[0], &add4, 1, NULL, 0, 5000, &o), CGM_RESULT_NO_QUORUM);
  CHECK(o == NULL);
  test_cluster_free(&lone);
  PASS();
}
