/* cgm_core_is_flushed: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  bool flushed = true;
  test_sim_formed(&s);
  FAIL_ON_SUCCESS(cgm_core_is_flushed(NULL, &flushed), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_is_flushed(s.core[2], NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_core_is_flushed(s.core[2], &flushed));
  CHECK(!flushed);
  FAIL_ON_ERR(cgm_core_leave(s.core[2], s.now));
  test_sim_run(&s, 100000);
  FAIL_ON_ERR(cgm_core_is_flushed(s.core[2], &flushed));
  CHECK(flushed);
  test_sim_free(&s);
  PASS();
}
