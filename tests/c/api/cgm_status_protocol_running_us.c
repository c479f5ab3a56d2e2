/* cgm_status_protocol_running_us: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *idle = test_status_idle(), *busy = test_status_busy();
  uint64_t v;
  memset(&v, 0, sizeof v);
  FAIL_ON_SUCCESS(cgm_status_protocol_running_us(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_protocol_running_us(busy, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_protocol_running_us(idle, &v), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("runs no protocol");
  FAIL_ON_ERR(cgm_status_protocol_running_us(busy, &v));
  CHECK(v >= 1000 && v < 10000000);
  cgm_status_free(idle);
  cgm_status_free(busy);
  PASS();
}
