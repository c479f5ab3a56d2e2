/*
 * embed_sansio: a host that owns its sockets, clock and loop, driving libcgm's
 * sans-IO core (cgm_core_*) for three members in one process, one UDP socket
 * each on loopback, one poll() loop for all.
 *
 * After every input the host drains, in order: datagrams to send
 * (cgm_core_poll_transmit), events (cgm_core_poll_event), then the next
 * deadline (cgm_core_poll_timeout). The sans-IO core does no authentication:
 * a real host would authenticate its datagrams (or trust its network).
 *
 * It reaches a view of three members with quorum, then member 1 proposes a
 * two-parameter change that commits on all three. Exit status 0 on success.
 */
#define _POSIX_C_SOURCE 200809L
#include <cgm.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define N 3

typedef struct {
  int sock;
  struct sockaddr_in addr;
  cgm_core *core;
  size_t view_members;
  bool quorum;
  bool committed;
} member;

static member m[N];
static uint8_t buf[65536];

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void check(const char *what, cgm_result r) {
  char err[512];
  if (r == CGM_RESULT_OK)
    return;
  cgm_last_error(err, sizeof err);
  fprintf(stderr, "embed_sansio: %s: %s (%s)\n", what, cgm_result_str(r), err);
  exit(1);
}

/* Sends what member i's core wants sent, then handles its events. */
static void drain(int i) {
  for (;;) {
    uint32_t to = 0;
    uint64_t source = 0;
    size_t len = 0;
    check("poll_transmit", cgm_core_poll_transmit(m[i].core, &to, &source, buf, sizeof buf, &len));
    if (len == 0)
      break;
    if (to >= 1 && to <= N) /* (source tokens answer operator tools; none here) */
      sendto(m[i].sock, buf, len, 0, (struct sockaddr *)&m[to - 1].addr, sizeof m[to - 1].addr);
  }
  for (;;) {
    cgm_core_event *e = NULL;
    uint32_t kind = 0;
    check("poll_event", cgm_core_poll_event(m[i].core, &e));
    if (e == NULL)
      break;
    cgm_core_event_kind(e, &kind);
    if (kind == CGM_EVENT_VIEW_CHANGED) {
      uint64_t epoch = 0;
      uint32_t leader = 0;
      cgm_status *st = NULL;
      cgm_core_event_view(e, &epoch, &leader, &m[i].quorum);
      check("query_status", cgm_core_query_status(m[i].core, now_us(), &st));
      cgm_status_member_count(st, &m[i].view_members);
      cgm_status_free(st);
      printf("member %d: view %llu.%u with %zu members, quorum %s\n", i + 1, (unsigned long long)epoch, leader,
             m[i].view_members, m[i].quorum ? "yes" : "no");
    } else if (kind == CGM_EVENT_COMPLETED) {
      cgm_change_outcome *o = NULL;
      uint64_t gen = 0;
      check("event_outcome", cgm_core_event_outcome(e, &o));
      cgm_change_outcome_committed(o, &m[i].committed);
      cgm_change_outcome_generation(o, &gen);
      printf("member %d: change %s, parameter generation %llu\n", i + 1,
             m[i].committed ? "committed" : "rolled back", (unsigned long long)gen);
      cgm_change_outcome_free(o);
    } else if (kind == CGM_EVENT_LOCAL_WAIT) {
      /* No veto hook or application protocol here; a real host would take
       * the lock, start the job or decide, then call cgm_core_complete_wait. */
      uint64_t token = 0;
      cgm_core_event_token(e, &token);
      cgm_core_complete_wait(m[i].core, now_us(), token, true, NULL, 0, NULL);
    }
    cgm_core_event_free(e);
  }
}

int main(void) {
  uint32_t ids[N] = {1, 2, 3};
  struct pollfd fds[N];
  uint64_t start = now_us(), txid = 0;
  bool proposed = false;

  for (int i = 0; i < N; i++) {
    socklen_t len = sizeof m[i].addr;
    m[i].sock = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&m[i].addr, 0, sizeof m[i].addr);
    m[i].addr.sin_family = AF_INET;
    m[i].addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (m[i].sock < 0 || bind(m[i].sock, (struct sockaddr *)&m[i].addr, sizeof m[i].addr) != 0 ||
        getsockname(m[i].sock, (struct sockaddr *)&m[i].addr, &len) != 0) {
      perror("embed_sansio: socket");
      return 1;
    }
    fds[i].fd = m[i].sock;
    fds[i].events = POLLIN;
    /* The incarnation must grow across restarts: the start time works. */
    check("core_new", cgm_core_new(ids[i], now_us() + (uint64_t)i, ids, N, now_us(), &m[i].core));
  }

  while (now_us() - start < 20000000u) {
    uint64_t next = now_us() + 100000u;
    int timeout_ms;
    for (int i = 0; i < N; i++) {
      bool has = false;
      uint64_t d = 0;
      check("poll_timeout", cgm_core_poll_timeout(m[i].core, &has, &d));
      if (has && d < next)
        next = d;
    }
    timeout_ms = next > now_us() ? (int)((next - now_us() + 999) / 1000) : 0;
    if (poll(fds, N, timeout_ms) > 0) {
      for (int i = 0; i < N; i++) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n;
        if (!(fds[i].revents & POLLIN))
          continue;
        n = recvfrom(m[i].sock, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
          continue;
        /* The source token: the sender's member id, by address. */
        for (int j = 0; j < N; j++)
          if (from.sin_port == m[j].addr.sin_port)
            check("handle_datagram",
                  cgm_core_handle_datagram(m[i].core, now_us(), (uint64_t)ids[j], buf, (size_t)n));
        drain(i);
      }
    }
    for (int i = 0; i < N; i++) {
      check("handle_timeout", cgm_core_handle_timeout(m[i].core, now_us()));
      drain(i);
    }
    if (!proposed && m[0].quorum && m[0].view_members == N && m[1].view_members == N &&
        m[2].view_members == N) {
      cgm_param_value change[2] = {{CGM_PARAM_HEARTBEAT_INTERVAL, 500}, {CGM_PARAM_HEARTBEAT_TIMEOUT, 2000}};
      check("propose", cgm_core_propose_params(m[0].core, now_us(), change, 2, &txid));
      printf("member 1: proposed heartbeat-interval=500ms heartbeat-timeout=2000ms (txid %llu)\n",
             (unsigned long long)txid);
      proposed = true;
      drain(0);
    }
    if (m[0].committed && m[1].committed && m[2].committed) {
      for (int i = 0; i < N; i++) {
        cgm_core_free(m[i].core);
        close(m[i].sock);
      }
      printf("the change committed on all three members\n");
      return 0;
    }
  }
  fprintf(stderr, "embed_sansio: no committed change within 20 s\n");
  return 1;
}
