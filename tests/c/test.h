/*
 * Shared helpers of libcgm's C tests: result-checking macros and fixtures.
 *
 * One test program per public function lives in api/<function>.c and checks
 * NULL arguments first, then bad arguments, then the good call. Functional
 * tests (several nodes, whole scenarios) live in fun/.
 */
#ifndef CGM_TEST_H
#define CGM_TEST_H

#define _POSIX_C_SOURCE 200809L

#include "cgm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline const char *test_last_error(void) {
  static char buf[1024];
  cgm_last_error(buf, sizeof buf);
  return buf;
}

#define FAIL(...)                                                              \
  do {                                                                         \
    fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);                      \
    fprintf(stderr, __VA_ARGS__);                                              \
    fprintf(stderr, " [last error: %s]\n", test_last_error());                 \
    exit(1);                                                                   \
  } while (0)

/* The call must succeed. */
#define FAIL_ON_ERR(call)                                                      \
  do {                                                                         \
    cgm_result r_ = (call);                                                    \
    if (r_ != CGM_RESULT_OK)                                                   \
      FAIL("%s returned %u (%s)", #call, (unsigned)r_, cgm_result_str(r_));   \
  } while (0)

/* The call must fail with `expected`. */
#define FAIL_ON_SUCCESS(call, expected)                                        \
  do {                                                                         \
    cgm_result r_ = (call);                                                    \
    if (r_ != (cgm_result)(expected))                                          \
      FAIL("%s returned %u (%s), expected %u (%s)", #call, (unsigned)r_,       \
           cgm_result_str(r_), (unsigned)(expected),                           \
           cgm_result_str(expected));                                          \
  } while (0)

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond))                                                               \
      FAIL("check failed: %s", #cond);                                         \
  } while (0)

/* The last error mentions `text`. */
#define CHECK_ERROR_MENTIONS(text)                                             \
  do {                                                                         \
    if (strstr(test_last_error(), (text)) == NULL)                             \
      FAIL("last error does not mention \"%s\"", (text));                      \
  } while (0)

#define PASS()                                                                 \
  do {                                                                         \
    printf("PASS %s\n", __FILE__);                                             \
    return 0;                                                                  \
  } while (0)

/* A pointer that was never a node. */
#define GARBAGE_NODE ((cgm_node *)(uintptr_t)0xdeadbee0u)

/* A string argument that is not UTF-8. */
#define NOT_UTF8 "bad \xff\xfe"

static const uint8_t TEST_KEY[CGM_KEY_LEN] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static inline uint64_t test_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void test_sleep_us(long us) {
  struct timespec ts;
  ts.tv_sec = us / 1000000;
  ts.tv_nsec = (us % 1000000) * 1000;
  nanosleep(&ts, NULL);
}

#define TEST_MAX_NODES 5

/* `n` (at most TEST_MAX_NODES) distinct UDP ports on 127.0.0.1 that are free
 * right now: every probe socket stays bound until all are picked, so no two
 * picks coincide. */
static inline void test_free_ports(unsigned *ports, unsigned n) {
  int socks[TEST_MAX_NODES];
  if (n > TEST_MAX_NODES)
    FAIL("test_free_ports: at most %d ports", TEST_MAX_NODES);
  for (unsigned i = 0; i < n; i++) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socks[i] = socket(AF_INET, SOCK_DGRAM, 0);
    if (socks[i] < 0 || bind(socks[i], (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(socks[i], (struct sockaddr *)&a, &len) != 0)
      FAIL("cannot find a free UDP port");
    ports[i] = ntohs(a.sin_port);
  }
  for (unsigned i = 0; i < n; i++)
    close(socks[i]);
}

/* A UDP port on 127.0.0.1 that is free right now. */
static inline unsigned test_free_port(void) {
  unsigned port = 0;
  test_free_ports(&port, 1);
  return port;
}

/* ----- nodes on loopback ------------------------------------------------- */

typedef struct {
  unsigned n;
  unsigned ports[TEST_MAX_NODES];
  cgm_node *node[TEST_MAX_NODES];
} test_cluster;

/* The configuration of node `id` (1-based) of cluster `c`, keyed. */
static inline cgm_config *test_config(const test_cluster *c, uint32_t id) {
  cgm_config *cfg = NULL;
  char addr[64];
  FAIL_ON_ERR(cgm_config_new(id, "test", &cfg));
  for (unsigned i = 0; i < c->n; i++) {
    snprintf(addr, sizeof addr, "127.0.0.1:%u", c->ports[i]);
    FAIL_ON_ERR(cgm_config_add_node(cfg, i + 1, addr));
  }
  FAIL_ON_ERR(cgm_config_set_key(cfg, TEST_KEY, sizeof TEST_KEY));
  return cfg;
}

/* Picks `n` free ports; starts nothing. */
static inline void test_cluster_init(test_cluster *c, unsigned n) {
  memset(c, 0, sizeof *c);
  c->n = n;
  test_free_ports(c->ports, n);
}

/* Starts node `id` with its test configuration (`veto` turns its veto hook on). */
static inline void test_cluster_start_node(test_cluster *c, uint32_t id,
                                           bool veto) {
  cgm_config *cfg = test_config(c, id);
  if (veto)
    FAIL_ON_ERR(cgm_config_set_veto_hook(cfg, true));
  FAIL_ON_ERR(cgm_node_start(cfg, &c->node[id - 1]));
  cgm_config_free(cfg);
}

/* Starts `n` nodes and waits until they form one group. */
static inline void test_cluster_start(test_cluster *c, unsigned n) {
  test_cluster_init(c, n);
  for (unsigned i = 1; i <= n; i++)
    test_cluster_start_node(c, i, false);
  for (unsigned i = 0; i < n; i++)
    FAIL_ON_ERR(cgm_node_wait_ready(c->node[i], 10000));
}

static inline void test_cluster_free(test_cluster *c) {
  for (unsigned i = 0; i < c->n; i++) {
    FAIL_ON_ERR(cgm_node_free(c->node[i]));
    c->node[i] = NULL;
  }
}

/* ----- sans-IO cores in memory ----------------------------------------- */

#define SIM_MAX 5
#define SIM_BUF 65536

typedef struct {
  unsigned n;
  uint64_t now;
  cgm_core *core[SIM_MAX];
  bool down[SIM_MAX];
  uint8_t buf[SIM_BUF];
} test_sim;

/* `n` cores (ids 1..n) in memory, not yet connected. */
static inline void test_sim_init(test_sim *s, unsigned n) {
  uint32_t ids[SIM_MAX];
  memset(s, 0, sizeof *s);
  s->n = n;
  s->now = 1000;
  for (unsigned i = 0; i < n; i++)
    ids[i] = i + 1;
  for (unsigned i = 0; i < n; i++)
    FAIL_ON_ERR(cgm_core_new(i + 1, 100 + i, ids, n, s->now, &s->core[i]));
}

/* Delivers every pending datagram (and what it causes); returns how many. */
static inline unsigned test_sim_deliver(test_sim *s) {
  unsigned moved = 0, progress = 1;
  while (progress) {
    progress = 0;
    for (unsigned i = 0; i < s->n; i++) {
      for (;;) {
        uint32_t to = 0;
        uint64_t src = 0;
        size_t len = 0;
        FAIL_ON_ERR(cgm_core_poll_transmit(s->core[i], &to, &src, s->buf,
                                           sizeof s->buf, &len));
        if (len == 0)
          break;
        progress = 1;
        moved++;
        /* An answer to a node outside the node set goes back to its source:
         * here, the node's index + 1 (see cgm_core_handle_datagram below). */
        if (to == 0 && src <= s->n)
          to = (uint32_t)src;
        if (to >= 1 && to <= s->n && !s->down[to - 1] && !s->down[i])
          FAIL_ON_ERR(cgm_core_handle_datagram(s->core[to - 1], s->now, i + 1,
                                               s->buf, len));
      }
    }
  }
  return moved;
}

/* Runs the virtual clock forward by `us`, firing timers and delivering. */
static inline void test_sim_run(test_sim *s, uint64_t us) {
  uint64_t end = s->now + us;
  test_sim_deliver(s);
  while (s->now < end) {
    uint64_t next = end;
    for (unsigned i = 0; i < s->n; i++) {
      bool has = false;
      uint64_t d = 0;
      FAIL_ON_ERR(cgm_core_poll_timeout(s->core[i], &has, &d));
      if (has && d < next)
        next = d;
    }
    s->now = next > s->now ? next : s->now + 1;
    for (unsigned i = 0; i < s->n; i++)
      FAIL_ON_ERR(cgm_core_handle_timeout(s->core[i], s->now));
    test_sim_deliver(s);
  }
}

/* Runs until core `i` (0-based) sees a view of `members` with quorum. */
static inline void test_sim_until_view(test_sim *s, unsigned i, size_t members) {
  for (int step = 0; step < 600; step++) {
    cgm_status *st = NULL;
    size_t n = 0;
    bool q = false;
    uint32_t phase = 0;
    FAIL_ON_ERR(cgm_core_query_status(s->core[i], s->now, &st));
    FAIL_ON_ERR(cgm_status_member_count(st, &n));
    FAIL_ON_ERR(cgm_status_quorum(st, &q));
    FAIL_ON_ERR(cgm_status_phase(st, &phase));
    cgm_status_free(st);
    if (n == members && q && phase == CGM_PHASE_IDLE)
      return;
    test_sim_run(s, 50000);
  }
  FAIL("core %u never saw a view of %zu members", i + 1, members);
}

/* Three connected cores that formed one view. */
static inline void test_sim_formed(test_sim *s) {
  test_sim_init(s, 3);
  for (unsigned i = 0; i < 3; i++)
    test_sim_until_view(s, i, 3);
}

/* Drops core `i`'s pending events. */
static inline void test_sim_drain_events(test_sim *s, unsigned i) {
  for (;;) {
    cgm_core_event *e = NULL;
    FAIL_ON_ERR(cgm_core_poll_event(s->core[i], &e));
    if (e == NULL)
      return;
    cgm_core_event_free(e);
  }
}

/* The next event of core `i` of kind `kind` (others are dropped), or NULL. */
static inline cgm_core_event *test_sim_event(test_sim *s, unsigned i,
                                             uint32_t kind) {
  for (;;) {
    cgm_core_event *e = NULL;
    uint32_t k = 0;
    FAIL_ON_ERR(cgm_core_poll_event(s->core[i], &e));
    if (e == NULL)
      return NULL;
    FAIL_ON_ERR(cgm_core_event_kind(e, &k));
    if (k == kind)
      return e;
    cgm_core_event_free(e);
  }
}

static inline void test_sim_free(test_sim *s) {
  for (unsigned i = 0; i < s->n; i++)
    cgm_core_free(s->core[i]);
}

/* An idle member's status (a formed 3-core group, member 1). */
static inline cgm_status *test_status_idle(void) {
  test_sim s;
  cgm_status *st = NULL;
  test_sim_formed(&s);
  FAIL_ON_ERR(cgm_core_query_status(s.core[0], s.now, &st));
  test_sim_free(&s);
  return st;
}

/* Member 1's status right after it proposed a change, before any ACK
 * arrived: a protocol in progress, waiting on ACKs from 2 and 3. */
static inline cgm_status *test_status_busy(void) {
  test_sim s;
  cgm_status *st = NULL;
  uint64_t txid = 0;
  test_sim_formed(&s);
  FAIL_ON_ERR(cgm_core_propose_param(s.core[0], s.now,
                                     CGM_PARAM_SEND_WINDOW_SIZE, 32, &txid));
  FAIL_ON_ERR(cgm_core_query_status(s.core[0], s.now + 1500, &st));
  test_sim_free(&s);
  return st;
}

/* Member 1's status after member 3 was cut off twice (merged back in
 * between): member 3's second exclusion holds it out (flap damping). */
static inline cgm_status *test_status_damped(void) {
  test_sim s;
  cgm_status *st = NULL;
  test_sim_formed(&s);
  for (int cut = 0; cut < 2; cut++) {
    s.down[2] = true;
    test_sim_until_view(&s, 0, 2);
    if (cut == 0) {
      s.down[2] = false;
      test_sim_until_view(&s, 0, 3);
    }
  }
  FAIL_ON_ERR(cgm_core_query_status(s.core[0], s.now, &st));
  test_sim_free(&s);
  return st;
}

/* A committed outcome: send-window-size set to 32 on a 3-core group. */
static inline cgm_change_outcome *test_outcome_committed(void) {
  test_sim s;
  uint64_t txid = 0;
  cgm_change_outcome *o = NULL;
  cgm_core_event *e;
  test_sim_formed(&s);
  test_sim_drain_events(&s, 1);
  FAIL_ON_ERR(cgm_core_propose_param(s.core[0], s.now,
                                     CGM_PARAM_SEND_WINDOW_SIZE, 32, &txid));
  test_sim_run(&s, 200000);
  e = test_sim_event(&s, 1, CGM_EVENT_COMPLETED);
  CHECK(e != NULL);
  FAIL_ON_ERR(cgm_core_event_outcome(e, &o));
  cgm_core_event_free(e);
  test_sim_free(&s);
  return o;
}

#endif /* CGM_TEST_H */
