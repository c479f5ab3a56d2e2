/*
 * three_nodes: three libcgm nodes in one process on loopback.
 *
 * Forms a group, asks each member for its status, commits a parameter change
 * on every member, then proposes a change that member 3's host vetoes from
 * its on_veto callback: it is rolled back on every member, and the outcome
 * names member 3 and its reason.
 *
 * One event thread polls the three nodes' fds (cgm_fd_get) and runs their
 * callbacks with cgm_dispatch; the main thread proposes.
 *
 * The proposer's outcome comes back as soon as the proposer decides; each
 * other member decides when the last ACK of round 2 reaches it, which can be
 * a moment later. So before reading a member's values, the example waits for
 * that member's own on_change.
 *
 * Usage: three_nodes [base-port]   (uses base-port .. base-port+2, default 17401)
 */
#define _POSIX_C_SOURCE 200809L
#include <cgm.h>

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 3

static cgm_node *nodes[N];
static volatile int stopping;
static atomic_int decided[N]; /* changes each member has decided (on_change) */

static void die(const char *what, cgm_result r) {
  char err[512];
  cgm_last_error(err, sizeof err);
  fprintf(stderr, "three_nodes: %s: %s (%s)\n", what, cgm_result_str(r), err);
  exit(1);
}

#define TRY(call)                                                              \
  do {                                                                         \
    cgm_result r_ = (call);                                                    \
    if (r_ != CGM_RESULT_OK)                                                   \
      die(#call, r_);                                                          \
  } while (0)

/* Member 3's veto hook: refuses any send window smaller than 16. */
static void on_veto(void *user_data, uint64_t token, const cgm_param_value *changes, size_t n) {
  cgm_node *node = user_data;
  for (size_t i = 0; i < n; i++) {
    if (changes[i].param == CGM_PARAM_SEND_WINDOW_SIZE && changes[i].value < 16) {
      printf("  [member 3 host] veto: %s = %llu is below what this host allows\n",
             cgm_param_name(changes[i].param), (unsigned long long)changes[i].value);
      cgm_veto_answer(node, token, false, "send-window-size below 16 starves this host's replication");
      return;
    }
  }
  cgm_veto_answer(node, token, true, NULL);
}

static void on_view(void *user_data, uint64_t epoch, uint32_t leader, const uint32_t *members,
                    size_t n, bool quorum) {
  (void)user_data;
  printf("  [event] view %llu.%u: %zu members, quorum %s\n", (unsigned long long)epoch, leader, n,
         quorum ? "yes" : "no");
  (void)members;
}

/* Every member's change outcome, as that member decided it. */
static void on_change(void *user_data, const cgm_change_outcome *o) {
  (void)o;
  for (int i = 0; i < N; i++)
    if (nodes[i] == user_data)
      atomic_fetch_add(&decided[i], 1);
}

/* Waits (up to 10 s) until every member has decided `changes` changes. */
static void wait_decided(int changes) {
  for (int ms = 0; ms < 10000; ms++) {
    int done = 0;
    for (int i = 0; i < N; i++)
      done += atomic_load(&decided[i]) >= changes;
    if (done == N)
      return;
    nanosleep(&(struct timespec){0, 1000000}, NULL);
  }
  fprintf(stderr, "three_nodes: not every member decided change %d in 10 s\n", changes);
  exit(1);
}

/* The event thread: poll every node's fd, dispatch the ready ones. */
static void *events(void *arg) {
  struct pollfd fds[N];
  (void)arg;
  for (int i = 0; i < N; i++) {
    int fd = -1;
    TRY(cgm_fd_get(nodes[i], &fd));
    fds[i].fd = fd;
    fds[i].events = POLLIN;
  }
  while (!stopping) {
    if (poll(fds, N, 100) <= 0)
      continue;
    for (int i = 0; i < N; i++)
      if (fds[i].revents & POLLIN)
        cgm_dispatch(nodes[i], CGM_DISPATCH_ALL);
  }
  return NULL;
}

static void print_outcome(const cgm_change_outcome *o) {
  size_t n = 0;
  bool committed = false;
  uint64_t gen = 0;
  cgm_change_outcome_committed(o, &committed);
  cgm_change_outcome_generation(o, &gen);
  cgm_change_outcome_member_count(o, &n);
  printf("  outcome: %s at parameter generation %llu\n",
         committed ? "COMMITTED on every member" : "ROLLED BACK on every member",
         (unsigned long long)gen);
  for (size_t i = 0; i < n; i++) {
    uint32_t id = 0;
    bool ok = false;
    const char *reason = NULL;
    cgm_change_outcome_member(o, i, &id, &ok, &reason);
    printf("    member %u: %s%s\n", id, ok ? "applied" : "FAILED: ", ok ? "" : reason);
  }
}

int main(int argc, char **argv) {
  unsigned base = argc > 1 ? (unsigned)atoi(argv[1]) : 17401;
  uint8_t key[CGM_KEY_LEN];
  pthread_t thread;
  cgm_change_outcome *o = NULL;
  cgm_result r;

  TRY(cgm_key_generate(key));
  for (uint32_t id = 1; id <= N; id++) {
    cgm_config *cfg = NULL;
    char addr[64];
    TRY(cgm_config_new(id, "example", &cfg));
    for (uint32_t peer = 1; peer <= N; peer++) {
      snprintf(addr, sizeof addr, "127.0.0.1:%u", base + peer - 1);
      TRY(cgm_config_add_node(cfg, peer, addr));
    }
    TRY(cgm_config_set_key(cfg, key, sizeof key));
    if (id == 3)
      TRY(cgm_config_set_veto_hook(cfg, true));
    TRY(cgm_node_start(cfg, &nodes[id - 1]));
    cgm_config_free(cfg);
  }
  for (int i = 0; i < N; i++) {
    cgm_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.size = sizeof cb;
    cb.user_data = nodes[i];
    cb.on_veto = on_veto;
    cb.on_view = i == 0 ? on_view : NULL;
    cb.on_change = on_change;
    TRY(cgm_node_set_callbacks(nodes[i], &cb));
  }
  if (pthread_create(&thread, NULL, events, NULL) != 0)
    return 1;
  for (int i = 0; i < N; i++)
    TRY(cgm_node_wait_ready(nodes[i], 10000));
  printf("three members formed one group\n");

  printf("\nstatus, each answered by the member itself (asked through member 1):\n");
  for (uint32_t m = 1; m <= N; m++) {
    cgm_status *st = NULL;
    uint32_t phase = 0;
    uint64_t round = 0, epoch = 0, gen = 0;
    uint32_t leader = 0;
    TRY(cgm_query_status(nodes[0], m, 2000, &st));
    cgm_status_phase(st, &phase);
    cgm_status_current_round(st, &round);
    cgm_status_view(st, &epoch, &leader);
    cgm_status_generation(st, &gen);
    printf("  member %u: view %llu.%u phase %s current round %llu parameter generation %llu\n", m,
           (unsigned long long)epoch, leader, cgm_phase_name(phase), (unsigned long long)round,
           (unsigned long long)gen);
    cgm_status_free(st);
  }

  printf("\nmember 2 proposes send-window-size = 32:\n");
  TRY(cgm_propose_param(nodes[1], CGM_PARAM_SEND_WINDOW_SIZE, 32, 10000, &o));
  print_outcome(o);
  cgm_change_outcome_free(o);
  wait_decided(1);

  printf("\nmember 1 proposes send-window-size = 8 (member 3's host refuses):\n");
  r = cgm_propose_param(nodes[0], CGM_PARAM_SEND_WINDOW_SIZE, 8, 10000, &o);
  if (r != CGM_RESULT_VETOED)
    die("the vetoed change", r);
  print_outcome(o);
  cgm_change_outcome_free(o);
  wait_decided(2);
  for (int i = 0; i < N; i++) {
    uint64_t v = 0;
    TRY(cgm_get_param(nodes[i], CGM_PARAM_SEND_WINDOW_SIZE, &v));
    printf("  member %d keeps send-window-size = %llu\n", i + 1, (unsigned long long)v);
    if (v != 32)
      return 1;
  }

  stopping = 1;
  pthread_join(thread, NULL);
  for (int i = 0; i < N; i++)
    TRY(cgm_node_free(nodes[i]));
  printf("\nall members left the group\n");
  return 0;
}
