/* cgm_core_event_status: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  cgm_core_event *e, *view;
  cgm_status *st = NULL;
  uint64_t req = 0;
  uint32_t id = 0;
  test_sim_formed(&s);
  view = test_sim_event(&s, 0, CGM_EVENT_VIEW_CHANGED);
  CHECK(view != NULL);
  FAIL_ON_SUCCESS(cgm_core_event_status(view, &st), CGM_RESULT_INVALID_ARGUMENT);
  cgm_core_event_free(view);
  FAIL_ON_ERR(cgm_core_query_member_status(s.core[0], s.now, 2, &req));
  test_sim_run(&s, 10000);
  e = test_sim_event(&s, 0, CGM_EVENT_STATUS_REPLY);
  CHECK(e != NULL);
  FAIL_ON_SUCCESS(cgm_core_event_status(NULL, &st), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_event_status(e, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_core_event_status(e, &st));
  cgm_core_event_free(e);
  FAIL_ON_ERR(cgm_status_node(st, &id));
  CHECK(id == 2);
  cgm_status_free(st);
  test_sim_free(&s);
  PASS();
}
