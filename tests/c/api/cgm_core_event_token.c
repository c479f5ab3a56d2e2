/* cgm_core_event_token: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  cgm_core_event *e, *view;
  uint64_t req = 0, token = 0;
  test_sim_formed(&s);
  view = test_sim_event(&s, 0, CGM_EVENT_VIEW_CHANGED);
  CHECK(view != NULL);
  FAIL_ON_SUCCESS(cgm_core_event_token(view, &token), CGM_RESULT_INVALID_ARGUMENT);
  cgm_core_event_free(view);
  FAIL_ON_ERR(cgm_core_query_member_status(s.core[0], s.now, 2, &req));
  test_sim_run(&s, 10000);
  e = test_sim_event(&s, 0, CGM_EVENT_STATUS_REPLY);
  CHECK(e != NULL);
  FAIL_ON_SUCCESS(cgm_core_event_token(NULL, &token), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_event_token(e, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_core_event_token(e, &token));
  CHECK(token == req);
  cgm_core_event_free(e);
  test_sim_free(&s);
  PASS();
}
