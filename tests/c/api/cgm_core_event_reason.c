/* cgm_core_event_reason: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

/* Member 3 falls silent: member 1 suspects it. */
static cgm_core_event *suspicion(test_sim *s) {
  cgm_core_event *e;
  test_sim_formed(s);
  test_sim_drain_events(s, 0);
  s->down[2] = true;
  test_sim_run(s, 15000000);
  e = test_sim_event(s, 0, CGM_EVENT_SUSPECTED);
  CHECK(e != NULL);
  return e;
}

int main(void) {
  test_sim s;
  cgm_core_event *e = suspicion(&s), *other;
  const char *reason = NULL;
  uint64_t req = 0;
  FAIL_ON_SUCCESS(cgm_core_event_reason(NULL, &reason), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_event_reason(e, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_core_event_reason(e, &reason));
  CHECK(reason != NULL && reason[0] != '\0');
  cgm_core_event_free(e);
  FAIL_ON_ERR(cgm_core_query_member_status(s.core[0], s.now, 1, &req));
  other = test_sim_event(&s, 0, CGM_EVENT_STATUS_REPLY);
  FAIL_ON_SUCCESS(cgm_core_event_reason(other, &reason), CGM_RESULT_INVALID_ARGUMENT);
  cgm_core_event_free(other);
  test_sim_free(&s);
  PASS();
}
