/*
 * The cluster grows at runtime and shrinks again: three nodes add a fourth by
 * transaction; the fourth starts with a configuration that lists only itself
 * and node 1, joins, takes the cluster's node set by state transfer (four
 * nodes with their addresses) and takes part in the next transaction like
 * any member. Then node 2 removes it, and the three go on as the cluster.
 *
 * (That a removed member is told, leaves and hears on_removed is checked in
 * api/cgm_propose_node_change.c on a member every file lists: a member whose
 * address only the node set gave drops out of the others' address book when
 * they apply its removal, so the runtime does not tell it yet.)
 */
#include "test.h"

/* Waits (20 s) until `node`'s own view holds `members` members with quorum. */
static void wait_view(cgm_node *node, uint32_t self, size_t members) {
  size_t n = 0;
  bool q = false;
  for (int tries = 0; tries < 2000; tries++) {
    cgm_status *st = NULL;
    FAIL_ON_ERR(cgm_query_status(node, self, 2000, &st));
    FAIL_ON_ERR(cgm_status_member_count(st, &n));
    FAIL_ON_ERR(cgm_status_quorum(st, &q));
    cgm_status_free(st);
    if (n == members && q)
      return;
    test_sleep_us(10000);
  }
  FAIL("node %u's view has %zu members (quorum %d), expected %zu", self, n, q, members);
}

int main(void) {
  test_cluster c;
  cgm_config *cfg = NULL;
  cgm_node *fourth = NULL;
  cgm_change_outcome *o = NULL;
  cgm_status *st = NULL;
  char addr[TEST_MAX_NODES][64];
  cgm_node_addr add;
  uint32_t rm = 4, id = 0;
  const char *a = NULL;
  size_t n = 0;
  bool ok = false;
  uint64_t value = 0;

  test_cluster_start(&c, 3);
  c.ports[3] = test_free_port();
  for (unsigned i = 0; i < 4; i++)
    snprintf(addr[i], sizeof addr[i], "127.0.0.1:%u", c.ports[i]);

  /* Grow: the node set commits on the three, then the fourth starts. */
  add.id = 4;
  add.addr = addr[3];
  FAIL_ON_ERR(cgm_propose_node_change(c.node[0], &add, 1, NULL, 0, 10000, &o));
  FAIL_ON_ERR(cgm_change_outcome_committed(o, &ok));
  CHECK(ok);
  cgm_change_outcome_free(o);
  o = NULL;
  FAIL_ON_ERR(cgm_config_new(4, "test", &cfg));
  FAIL_ON_ERR(cgm_config_add_node(cfg, 1, addr[0]));
  FAIL_ON_ERR(cgm_config_add_node(cfg, 4, addr[3]));
  FAIL_ON_ERR(cgm_config_set_key(cfg, TEST_KEY, sizeof TEST_KEY));
  FAIL_ON_ERR(cgm_node_start(cfg, &fourth));
  cgm_config_free(cfg);
  wait_view(fourth, 4, 4);
  for (uint32_t i = 1; i <= 3; i++)
    wait_view(c.node[i - 1], i, 4);

  /* The fourth holds the cluster's node set, not just its own file's two. */
  FAIL_ON_ERR(cgm_query_status(fourth, 4, 2000, &st));
  FAIL_ON_ERR(cgm_status_cluster_node_count(st, &n));
  CHECK(n == 4);
  for (size_t i = 0; i < 4; i++) {
    FAIL_ON_ERR(cgm_status_cluster_node(st, i, &id, &a));
    CHECK(id == i + 1 && strcmp(a, addr[i]) == 0);
  }
  FAIL_ON_ERR(cgm_status_configured_node_count(st, &n));
  CHECK(n == 2);
  FAIL_ON_ERR(cgm_status_configured_node(st, 1, &id, &a));
  CHECK(id == 4 && strcmp(a, addr[3]) == 0);
  cgm_status_free(st);

  /* The fourth is a member like the others: a change it proposes commits. */
  FAIL_ON_ERR(cgm_propose_param(fourth, CGM_PARAM_SEND_WINDOW_SIZE, 48, 10000, &o));
  cgm_change_outcome_free(o);
  o = NULL;
  for (int tries = 0; value != 48; tries++) { /* member 3 decides when round 2's last ACK reaches it */
    CHECK(tries < 1000);
    FAIL_ON_ERR(cgm_get_param(c.node[2], CGM_PARAM_SEND_WINDOW_SIZE, &value));
    if (value != 48)
      test_sleep_us(10000);
  }

  /* Shrink: node 2 removes the fourth; the three go on without it. */
  FAIL_ON_ERR(cgm_propose_node_change(c.node[1], NULL, 0, &rm, 1, 10000, &o));
  FAIL_ON_ERR(cgm_change_outcome_committed(o, &ok));
  CHECK(ok);
  cgm_change_outcome_free(o);
  for (uint32_t i = 1; i <= 3; i++)
    wait_view(c.node[i - 1], i, 3);
  FAIL_ON_ERR(cgm_query_status(c.node[2], 3, 2000, &st));
  FAIL_ON_ERR(cgm_status_cluster_node_count(st, &n));
  CHECK(n == 3);
  cgm_status_free(st);

  FAIL_ON_ERR(cgm_node_free(fourth));
  test_cluster_free(&c);
  PASS();
}
