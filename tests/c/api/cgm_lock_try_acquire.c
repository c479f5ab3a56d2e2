/* cgm_lock_try_acquire: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  bool got = false;
  test_cluster_start(&c, 1);
  FAIL_ON_SUCCESS(cgm_lock_try_acquire(NULL, "a", &got), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_lock_try_acquire(c.node[0], NULL, &got), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_lock_try_acquire(c.node[0], "a", NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_lock_try_acquire(GARBAGE_NODE, "a", &got), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_lock_try_acquire(c.node[0], NOT_UTF8, &got), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  FAIL_ON_ERR(cgm_lock_try_acquire(c.node[0], "a", &got));
  CHECK(got);
  FAIL_ON_ERR(cgm_lock_try_acquire(c.node[0], "a", &got));
  CHECK(!got);
  FAIL_ON_ERR(cgm_lock_try_acquire(c.node[0], "b", &got));
  CHECK(got);
  FAIL_ON_ERR(cgm_lock_release(c.node[0], "a"));
  FAIL_ON_ERR(cgm_lock_try_acquire(c.node[0], "a", &got));
  CHECK(got);
  test_cluster_free(&c);
  PASS();
}
