/* cgm_core_event_view: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  cgm_core_event *e, *other;
  uint64_t epoch = 0, last = 0, req = 0;
  uint32_t leader = 0;
  bool quorum = false, seen_quorum = false;
  test_sim_formed(&s);
  FAIL_ON_ERR(cgm_core_query_member_status(s.core[0], s.now, 1, &req));
  while ((e = test_sim_event(&s, 0, CGM_EVENT_VIEW_CHANGED)) != NULL) {
    FAIL_ON_SUCCESS(cgm_core_event_view(NULL, &epoch, &leader, &quorum), CGM_RESULT_NULL_ARGUMENT);
    FAIL_ON_SUCCESS(cgm_core_event_view(e, NULL, &leader, &quorum), CGM_RESULT_NULL_ARGUMENT);
    FAIL_ON_SUCCESS(cgm_core_event_view(e, &epoch, NULL, &quorum), CGM_RESULT_NULL_ARGUMENT);
    FAIL_ON_SUCCESS(cgm_core_event_view(e, &epoch, &leader, NULL), CGM_RESULT_NULL_ARGUMENT);
    FAIL_ON_ERR(cgm_core_event_view(e, &epoch, &leader, &quorum));
    CHECK(epoch > last);
    last = epoch;
    seen_quorum = quorum;
    cgm_core_event_free(e);
  }
  CHECK(seen_quorum); /* the last view holds a quorum */
  FAIL_ON_ERR(cgm_core_query_member_status(s.core[0], s.now, 1, &req));
  other = test_sim_event(&s, 0, CGM_EVENT_STATUS_REPLY);
  CHECK(other != NULL);
  FAIL_ON_SUCCESS(cgm_core_event_view(other, &epoch, &leader, &quorum), CGM_RESULT_INVALID_ARGUMENT);
  cgm_core_event_free(other);
  test_sim_free(&s);
  PASS();
}
