/* cgm_core_query_member_status: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  uint64_t req = 0, token = 0;
  uint32_t id = 0;
  cgm_core_event *e;
  cgm_status *st = NULL;
  test_sim_formed(&s);
  test_sim_drain_events(&s, 0);
  FAIL_ON_SUCCESS(cgm_core_query_member_status(NULL, s.now, 2, &req), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_query_member_status(s.core[0], s.now, 2, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_query_member_status(s.core[0], s.now, 9, &req), CGM_RESULT_NOT_MEMBER);
  FAIL_ON_ERR(cgm_core_query_member_status(s.core[0], s.now, 3, &req));
  test_sim_run(&s, 10000);
  e = test_sim_event(&s, 0, CGM_EVENT_STATUS_REPLY);
  CHECK(e != NULL);
  FAIL_ON_ERR(cgm_core_event_token(e, &token));
  CHECK(token == req);
  FAIL_ON_ERR(cgm_core_event_status(e, &st));
  FAIL_ON_ERR(cgm_status_node(st, &id));
  CHECK(id == 3); /* answered by member 3 from its own record */
  cgm_status_free(st);
  cgm_core_event_free(e);
  test_sim_free(&s);
  PASS();
}
