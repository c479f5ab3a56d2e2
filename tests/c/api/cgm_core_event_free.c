/* cgm_core_event_free: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  cgm_core_event *e = NULL;
  cgm_core_event_free(NULL);
  test_sim_formed(&s);
  FAIL_ON_ERR(cgm_core_poll_event(s.core[0], &e));
  CHECK(e != NULL);
  cgm_core_event_free(e);
  test_sim_free(&s);
  PASS();
}
