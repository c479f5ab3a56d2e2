/* cgm_core_event_outcome: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  cgm_core_event *e, *view;
  cgm_change_outcome *o = NULL;
  uint64_t txid = 0, gen = 0;
  test_sim_formed(&s);
  view = test_sim_event(&s, 0, CGM_EVENT_VIEW_CHANGED);
  CHECK(view != NULL);
  FAIL_ON_SUCCESS(cgm_core_event_outcome(view, &o), CGM_RESULT_INVALID_ARGUMENT);
  cgm_core_event_free(view);
  FAIL_ON_ERR(cgm_core_propose_param(s.core[0], s.now, CGM_PARAM_SEND_WINDOW_SIZE, 32, &txid));
  test_sim_run(&s, 200000);
  e = test_sim_event(&s, 0, CGM_EVENT_COMPLETED);
  CHECK(e != NULL);
  FAIL_ON_SUCCESS(cgm_core_event_outcome(NULL, &o), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_event_outcome(e, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_core_event_outcome(e, &o));
  cgm_core_event_free(e); /* the outcome is a copy */
  FAIL_ON_ERR(cgm_change_outcome_generation(o, &gen));
  CHECK(gen == 1);
  cgm_change_outcome_free(o);
  test_sim_free(&s);
  PASS();
}
