/* cgm_core_leave: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  test_sim_formed(&s);
  FAIL_ON_SUCCESS(cgm_core_leave(NULL, s.now), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_core_leave(s.core[2], s.now));
  test_sim_run(&s, 100000);
  test_sim_until_view(&s, 0, 2);
  test_sim_until_view(&s, 1, 2);
  FAIL_ON_SUCCESS(cgm_core_propose_param(s.core[2], s.now, CGM_PARAM_SEND_WINDOW_SIZE, 32, &(uint64_t){0}), CGM_RESULT_NOT_MEMBER);
  test_sim_free(&s);
  PASS();
}
