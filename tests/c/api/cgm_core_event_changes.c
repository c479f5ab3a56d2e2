/* cgm_core_event_changes: NULL arguments first, then bad arguments, then the good call. */
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
  cgm_core_event *e, *view;
  const cgm_param_value *ch = NULL;
  size_t n = 0;
  uint64_t txid = 0;
  veto_sim(&s);
  view = test_sim_event(&s, 0, CGM_EVENT_VIEW_CHANGED);
  CHECK(view != NULL);
  FAIL_ON_SUCCESS(cgm_core_event_changes(view, &ch, &n), CGM_RESULT_INVALID_ARGUMENT);
  cgm_core_event_free(view);
  FAIL_ON_ERR(cgm_core_propose_param(s.core[0], s.now, CGM_PARAM_SEND_WINDOW_SIZE, 32, &txid));
  test_sim_run(&s, 20000);
  e = test_sim_event(&s, 2, CGM_EVENT_LOCAL_WAIT);
  CHECK(e != NULL);
  FAIL_ON_SUCCESS(cgm_core_event_changes(NULL, &ch, &n), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_event_changes(e, NULL, &n), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_event_changes(e, &ch, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_core_event_changes(e, &ch, &n));
  CHECK(n == 1 && ch[0].param == CGM_PARAM_SEND_WINDOW_SIZE && ch[0].value == 32);
  cgm_core_event_free(e);
  test_sim_free(&s);
  PASS();
}
