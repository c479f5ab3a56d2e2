/* cgm_core_event_kind: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  cgm_core_event *e = NULL;
  uint32_t kind = 0;
  test_sim_formed(&s);
  FAIL_ON_ERR(cgm_core_poll_event(s.core[0], &e));
  FAIL_ON_SUCCESS(cgm_core_event_kind(NULL, &kind), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_event_kind(e, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_core_event_kind(e, &kind));
  CHECK(kind >= CGM_EVENT_VIEW_CHANGED && kind <= CGM_EVENT_STATUS_QUERY_FAILED);
  cgm_core_event_free(e);
  test_sim_free(&s);
  PASS();
}
