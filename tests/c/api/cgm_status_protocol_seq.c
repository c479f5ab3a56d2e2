/* cgm_status_protocol_seq: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *idle = test_status_idle(), *busy = test_status_busy();
  uint64_t v;
  memset(&v, 0, sizeof v);
  FAIL_ON_SUCCESS(cgm_status_protocol_seq(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_protocol_seq(busy, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_protocol_seq(idle, &v), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("runs no protocol");
  FAIL_ON_ERR(cgm_status_protocol_seq(busy, &v));
  CHECK(v == 1);
  cgm_status_free(idle);
  cgm_status_free(busy);
  PASS();
}
