/* cgm_status_waiting: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *idle = test_status_idle(), *busy = test_status_busy();
  uint32_t v;
  memset(&v, 0, sizeof v);
  FAIL_ON_SUCCESS(cgm_status_waiting(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_waiting(idle, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_status_waiting(idle, &v));
  CHECK(v == CGM_WAITING_NONE);
  FAIL_ON_ERR(cgm_status_waiting(busy, &v));
  CHECK(v == CGM_WAITING_ACKS);
  cgm_status_free(idle);
  cgm_status_free(busy);
  PASS();
}
