/* cgm_status_waiting_resource: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *idle = test_status_idle(), *busy = test_status_busy();
  const char * v;
  memset(&v, 0, sizeof v);
  FAIL_ON_SUCCESS(cgm_status_waiting_resource(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_waiting_resource(idle, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_status_waiting_resource(idle, &v));
  CHECK(v == NULL);
  FAIL_ON_ERR(cgm_status_waiting_resource(busy, &v));
  CHECK(v == NULL);
  cgm_status_free(idle);
  cgm_status_free(busy);
  /* A lock's name: fun/lock_status.c. */
  PASS();
}
