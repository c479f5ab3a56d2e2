/* cgm_core_poll_event: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  cgm_core_event *e = (cgm_core_event *)(uintptr_t)0x10;
  uint32_t kind = 0;
  test_sim_formed(&s);
  FAIL_ON_SUCCESS(cgm_core_poll_event(NULL, &e), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_poll_event(s.core[0], NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_core_poll_event(s.core[0], &e));
  CHECK(e != NULL);
  FAIL_ON_ERR(cgm_core_event_kind(e, &kind));
  CHECK(kind == CGM_EVENT_VIEW_CHANGED);
  cgm_core_event_free(e);
  test_sim_drain_events(&s, 0);
  FAIL_ON_ERR(cgm_core_poll_event(s.core[0], &e));
  CHECK(e == NULL); /* none pending */
  test_sim_free(&s);
  PASS();
}
