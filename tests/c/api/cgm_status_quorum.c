/* cgm_status_quorum: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *idle = test_status_idle(), *busy = test_status_busy();
  bool v;
  memset(&v, 0, sizeof v);
  FAIL_ON_SUCCESS(cgm_status_quorum(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_quorum(idle, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_status_quorum(idle, &v));
  CHECK(v);
  FAIL_ON_ERR(cgm_status_quorum(busy, &v));
  CHECK(v);
  cgm_status_free(idle);
  cgm_status_free(busy);
  PASS();
}
