/* cgm_status_protocol_kind: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *idle = test_status_idle(), *busy = test_status_busy();
  const char * v;
  memset(&v, 0, sizeof v);
  FAIL_ON_SUCCESS(cgm_status_protocol_kind(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_protocol_kind(busy, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_protocol_kind(idle, &v), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("runs no protocol");
  FAIL_ON_ERR(cgm_status_protocol_kind(busy, &v));
  CHECK(strcmp(v, "param-change") == 0);
  cgm_status_free(idle);
  cgm_status_free(busy);
  PASS();
}
