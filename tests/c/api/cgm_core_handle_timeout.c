/* cgm_core_handle_timeout: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  bool has = false;
  uint64_t deadline = 0;
  FAIL_ON_SUCCESS(cgm_core_handle_timeout(NULL, 0), CGM_RESULT_NULL_ARGUMENT);
  test_sim_init(&s, 3);
  FAIL_ON_ERR(cgm_core_poll_timeout(s.core[0], &has, &deadline));
  CHECK(has);
  FAIL_ON_ERR(cgm_core_handle_timeout(s.core[0], deadline));
  /* Timers alone (with delivery) form the group. */
  test_sim_until_view(&s, 0, 3);
  test_sim_free(&s);
  PASS();
}
