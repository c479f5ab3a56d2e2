/* cgm_core_propose_param: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  uint64_t txid = 0, t2 = 0, v = 0, conf = 0;
  uint32_t node = 0;
  cgm_core_event *e;
  cgm_change_outcome *o = NULL;
  cgm_status *st = NULL;
  test_sim_init(&s, 3);
  FAIL_ON_SUCCESS(cgm_core_propose_param(NULL, s.now, CGM_PARAM_SEND_WINDOW_SIZE, 32, &txid), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_propose_param(s.core[0], s.now, CGM_PARAM_SEND_WINDOW_SIZE, 32, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_propose_param(s.core[0], s.now, 11, 32, &txid), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_SUCCESS(cgm_core_propose_param(s.core[0], s.now, CGM_PARAM_SEND_WINDOW_SIZE, 5000, &txid), CGM_RESULT_INVALID_PARAMETER);
  CHECK_ERROR_MENTIONS("1..=4096");
  /* Alone among three configured nodes: no quorum. */
  FAIL_ON_SUCCESS(cgm_core_propose_param(s.core[0], s.now, CGM_PARAM_SEND_WINDOW_SIZE, 32, &txid), CGM_RESULT_NO_QUORUM);
  for (unsigned i = 0; i < 3; i++)
    test_sim_until_view(&s, i, 3);
  test_sim_drain_events(&s, 2);
  FAIL_ON_ERR(cgm_core_propose_param(s.core[2], s.now, CGM_PARAM_SEND_WINDOW_SIZE, 32, &txid));
  test_sim_run(&s, 200000);
  e = test_sim_event(&s, 2, CGM_EVENT_COMPLETED);
  CHECK(e != NULL);
  FAIL_ON_ERR(cgm_core_event_outcome(e, &o));
  FAIL_ON_ERR(cgm_change_outcome_proposal(o, &node, &t2));
  CHECK(node == 3 && t2 == txid);
  cgm_change_outcome_free(o);
  cgm_core_event_free(e);
  for (unsigned i = 0; i < 3; i++) {
    FAIL_ON_ERR(cgm_core_query_status(s.core[i], s.now, &st));
    FAIL_ON_ERR(cgm_status_param(st, CGM_PARAM_SEND_WINDOW_SIZE, &v, &conf));
    CHECK(v == 32 && conf == 64);
    cgm_status_free(st);
  }
  test_sim_free(&s);
  PASS();
}
