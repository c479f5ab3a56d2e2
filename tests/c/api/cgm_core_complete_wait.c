/* cgm_core_complete_wait: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

/* Three cores from configurations; member 3 has the veto hook on. */
static void veto_sim(test_sim *s) {
  test_cluster c;
  memset(s, 0, sizeof *s);
  s->n = 3;
  s->now = 1000;
  test_cluster_init(&c, 3);
  for (uint32_t id = 1; id <= 3; id++) {
    cgm_config *cfg = test_config(&c, id);
    if (id == 3)
      FAIL_ON_ERR(cgm_config_set_veto_hook(cfg, true));
    FAIL_ON_ERR(cgm_core_new_from_config(cfg, 100 + id, s->now, &s->core[id - 1]));
    cgm_config_free(cfg);
  }
  for (unsigned i = 0; i < 3; i++)
    test_sim_until_view(s, i, 3);
  test_sim_drain_events(s, 2);
}

int main(void) {
  test_sim s;
  uint64_t txid = 0, token = 0, v = 0, conf = 0;
  cgm_core_event *e;
  cgm_change_outcome *o = NULL;
  bool committed = true;
  const char *reason = NULL;
  cgm_status *st = NULL;
  veto_sim(&s);
  FAIL_ON_SUCCESS(cgm_core_complete_wait(NULL, s.now, 1, true, NULL, 0, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_complete_wait(s.core[2], s.now, 1, true, NULL, 4, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_complete_wait(s.core[2], s.now, 12345, true, NULL, 0, NULL), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("12345");
  FAIL_ON_SUCCESS(cgm_core_complete_wait(s.core[2], s.now, 12345, false, NULL, 0, NOT_UTF8), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  FAIL_ON_ERR(cgm_core_propose_param(s.core[0], s.now, CGM_PARAM_SEND_WINDOW_SIZE, 32, &txid));
  test_sim_run(&s, 20000);
  e = test_sim_event(&s, 2, CGM_EVENT_LOCAL_WAIT);
  CHECK(e != NULL);
  FAIL_ON_ERR(cgm_core_event_token(e, &token));
  cgm_core_event_free(e);
  /* Member 3 is visibly waiting on its veto hook. */
  FAIL_ON_ERR(cgm_core_query_status(s.core[2], s.now, &st));
  FAIL_ON_ERR(cgm_status_waiting(st, (uint32_t *)&v));
  CHECK((uint32_t)v == CGM_WAITING_VETO);
  cgm_status_free(st);
  FAIL_ON_ERR(cgm_core_complete_wait(s.core[2], s.now, token, false, NULL, 0, "not now"));
  test_sim_run(&s, 200000);
  e = test_sim_event(&s, 0, CGM_EVENT_COMPLETED);
  CHECK(e != NULL);
  FAIL_ON_ERR(cgm_core_event_outcome(e, &o));
  FAIL_ON_ERR(cgm_change_outcome_committed(o, &committed));
  FAIL_ON_ERR(cgm_change_outcome_reason(o, &reason));
  CHECK(!committed && reason != NULL && strstr(reason, "not now") != NULL);
  cgm_change_outcome_free(o);
  cgm_core_event_free(e);
  FAIL_ON_ERR(cgm_core_query_status(s.core[1], s.now, &st));
  FAIL_ON_ERR(cgm_status_param(st, CGM_PARAM_SEND_WINDOW_SIZE, &v, &conf));
  CHECK(v == 64); /* undone everywhere */
  cgm_status_free(st);
  test_sim_free(&s);
  PASS();
}
