/* cgm_core_poll_timeout: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  bool has = false;
  uint64_t d = 0;
  test_sim_init(&s, 3);
  FAIL_ON_SUCCESS(cgm_core_poll_timeout(NULL, &has, &d), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_poll_timeout(s.core[0], NULL, &d), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_poll_timeout(s.core[0], &has, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_core_poll_timeout(s.core[0], &has, &d));
  CHECK(has && d >= s.now);
  test_sim_free(&s);
  PASS();
}
