/*
 * status_tool: asks any member of a running cluster for its status and prints
 * it as a table, as `cgm status` does. It does not join the group: the
 * member answers an operator query (authenticated with the cluster key) from
 * its own record.
 *
 * Usage: status_tool <node.toml> [member-id]
 *   node.toml  any node's configuration (addresses and key file)
 *   member-id  the member to ask (default: the file's node_id)
 * Exit status: 0 answered, 1 no answer or error.
 */
#include <cgm.h>

#include <stdio.h>
#include <stdlib.h>

static void human(uint64_t us, char *buf, size_t len) {
  if (us >= 1000000)
    snprintf(buf, len, "%.1fs", (double)us / 1e6);
  else
    snprintf(buf, len, "%.1fms", (double)us / 1e3);
}

static int fail(const char *what, cgm_result r) {
  char err[512];
  cgm_last_error(err, sizeof err);
  fprintf(stderr, "status_tool: %s: %s: %s\n", what, cgm_result_str(r), err);
  return 1;
}

int main(int argc, char **argv) {
  cgm_config *cfg = NULL;
  cgm_status *s = NULL;
  cgm_result r;
  uint32_t member, id = 0, leader = 0, phase = 0, waiting = 0;
  uint64_t epoch = 0, round = 0, completed = 0, queued = 0, gen = 0, waited = 0;
  size_t n = 0;
  bool quorum = false, has_protocol = false;
  char t[32];

  if (argc < 2) {
    fprintf(stderr, "usage: status_tool <node.toml> [member-id]\n");
    return 1;
  }
  if ((r = cgm_config_load_file(argv[1], &cfg)) != CGM_RESULT_OK)
    return fail(argv[1], r);
  if (argc > 2)
    member = (uint32_t)strtoul(argv[2], NULL, 10);
  else
    cgm_config_node_id(cfg, &member);
  if ((r = cgm_operator_query_status(cfg, member, 3000, &s)) != CGM_RESULT_OK) {
    cgm_config_free(cfg);
    return fail("query", r);
  }
  cgm_config_free(cfg);

  cgm_status_node(s, &id);
  cgm_status_view(s, &epoch, &leader);
  cgm_status_member_count(s, &n);
  cgm_status_quorum(s, &quorum);
  printf("member %u  view %llu.%u  members [", id, (unsigned long long)epoch, leader);
  for (size_t i = 0; i < n; i++) {
    uint32_t m = 0;
    cgm_status_member(s, i, &m);
    printf(i ? " %u" : "%u", m);
  }
  {
    uint32_t coord = 0;
    if (n > 0)
      cgm_status_member(s, 0, &coord);
    printf("]  coordinator %u  quorum %s\n", coord, quorum ? "yes" : "NO");
  }
  cgm_status_phase(s, &phase);
  cgm_status_current_round(s, &round);
  cgm_status_completed(s, &completed);
  cgm_status_queued_protocols(s, &queued);
  printf("phase %s  current round %llu  completed protocols %llu  queued %llu\n", cgm_phase_name(phase),
         (unsigned long long)round, (unsigned long long)completed, (unsigned long long)queued);

  cgm_status_has_protocol(s, &has_protocol);
  if (has_protocol) {
    uint64_t seq = 0, txid = 0, running = 0;
    uint32_t init = 0, index = 0, rounds = 0;
    const char *kind = NULL;
    cgm_status_protocol_seq(s, &seq);
    cgm_status_protocol_kind(s, &kind);
    cgm_status_protocol_initiator(s, &init, &txid);
    cgm_status_protocol_round(s, &index, &rounds);
    cgm_status_protocol_running_us(s, &running);
    human(running, t, sizeof t);
    printf("protocol seq %llu (%s) from %u:%llu round %u/%u running for %s\n", (unsigned long long)seq, kind,
           init, (unsigned long long)txid, index + 1, rounds, t);
  }

  cgm_status_waiting(s, &waiting);
  cgm_status_waited_us(s, &waited);
  human(waited, t, sizeof t);
  if (waiting == CGM_WAITING_ACKS) {
    size_t k = 0;
    cgm_status_not_acked_count(s, &k);
    printf("waiting on ACKs of round %llu from [", (unsigned long long)round);
    for (size_t i = 0; i < k; i++) {
      uint32_t m = 0;
      cgm_status_not_acked(s, i, &m);
      printf(i ? ", %u" : "%u", m);
    }
    printf("] for %s\n", t);
  } else if (waiting == CGM_WAITING_LOCK || waiting == CGM_WAITING_JOB) {
    const char *name = NULL;
    cgm_status_waiting_resource(s, &name);
    printf("waiting on %s \"%s\" for %s\n", waiting == CGM_WAITING_LOCK ? "lock" : "job", name, t);
  } else if (waiting == CGM_WAITING_VETO) {
    printf("waiting on veto hook for %s\n", t);
  } else if (waiting == CGM_WAITING_HOST) {
    printf("waiting on host step for %s\n", t);
  } else if (waiting == CGM_WAITING_NEW_VIEW) {
    printf("waiting on a new view for %s\n", t);
  }

  cgm_status_peer_count(s, &n);
  printf("%6s  %14s  %8s  %15s  %6s\n", "peer", "last-ack-round", "acked", "last-heard", "queued");
  for (size_t i = 0; i < n; i++) {
    uint32_t peer = 0;
    uint64_t last = 0, age = 0, q = 0, inflight = 0;
    char heard[40];
    cgm_status_peer(s, i, &peer, &last, &age);
    cgm_status_peer_queue(s, i, &q, &inflight);
    if (age == CGM_NEVER) {
      snprintf(heard, sizeof heard, "never");
    } else {
      human(age, t, sizeof t);
      snprintf(heard, sizeof heard, "%s ago", t);
    }
    printf("%6u  %14llu  %8s  %15s  %6llu\n", peer, (unsigned long long)last,
           has_protocol ? (last >= round ? "yes" : "NO") : "-", heard, (unsigned long long)q);
  }

  cgm_status_link_count(s, &n);
  for (size_t i = 0; i < n; i++) {
    uint32_t peer = 0, misses = 0;
    bool out = false, pending = false;
    uint64_t interval = 0;
    cgm_status_link(s, i, &peer, &out, &interval, &misses, &pending);
    printf("heartbeat link %s %u  interval %llums  misses %u  switch-over %s\n", out ? "->" : "<-", peer,
           (unsigned long long)interval, misses, pending ? "PENDING" : "done");
  }

  {
    uint64_t c[CGM_COUNTER_COUNT];
    for (uint32_t i = 0; i < CGM_COUNTER_COUNT; i++)
      cgm_status_counter(s, i, &c[i]);
    printf("dropped: auth %llu replay %llu malformed %llu version %llu stale %llu  retransmits %llu  "
           "changes committed %llu rolled back %llu\n",
           (unsigned long long)c[CGM_COUNTER_AUTH_FAILED], (unsigned long long)c[CGM_COUNTER_REPLAYED],
           (unsigned long long)c[CGM_COUNTER_MALFORMED], (unsigned long long)c[CGM_COUNTER_VERSION_MISMATCH],
           (unsigned long long)c[CGM_COUNTER_STALE], (unsigned long long)c[CGM_COUNTER_RETRANSMITS],
           (unsigned long long)c[CGM_COUNTER_CHANGES_COMMITTED],
           (unsigned long long)c[CGM_COUNTER_CHANGES_ROLLED_BACK]);
  }

  cgm_status_generation(s, &gen);
  printf("parameters (generation %llu):\n", (unsigned long long)gen);
  printf("  %-34s %15s %15s\n", "parameter", "configured", "effective");
  for (uint32_t p = 0; p < CGM_PARAM_COUNT; p++) {
    uint64_t eff = 0, conf = 0, lo, hi, def;
    const char *unit = "";
    char a[32], b[32];
    cgm_status_param(s, p, &eff, &conf);
    cgm_param_range(p, &lo, &hi, &def, &unit);
    snprintf(a, sizeof a, "%llu %s", (unsigned long long)conf, unit);
    snprintf(b, sizeof b, "%llu %s", (unsigned long long)eff, unit);
    printf("  %-34s %15s %15s%s\n", cgm_param_name(p), a, b, eff != conf ? "   (changed)" : "");
  }
  cgm_status_free(s);
  return 0;
}
