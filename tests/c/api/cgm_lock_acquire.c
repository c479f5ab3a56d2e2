/* cgm_lock_acquire: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  bool got = true;
  test_cluster_start(&c, 1);
  FAIL_ON_SUCCESS(cgm_lock_acquire(NULL, "a"), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_lock_acquire(c.node[0], NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_lock_acquire(GARBAGE_NODE, "a"), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_lock_acquire(c.node[0], NOT_UTF8), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  FAIL_ON_ERR(cgm_lock_acquire(c.node[0], "transport-config"));
  FAIL_ON_ERR(cgm_lock_try_acquire(c.node[0], "transport-config", &got));
  CHECK(!got);
  FAIL_ON_ERR(cgm_lock_release(c.node[0], "transport-config"));
  FAIL_ON_ERR(cgm_lock_acquire(c.node[0], "transport-config"));
  /* Freeing the node releases what the host holds. */
  test_cluster_free(&c);
  PASS();
}
