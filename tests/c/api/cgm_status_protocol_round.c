/* cgm_status_protocol_round: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *idle = test_status_idle(), *busy = test_status_busy();
  uint32_t index = 9, rounds = 0;
  FAIL_ON_SUCCESS(cgm_status_protocol_round(NULL, &index, &rounds), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_protocol_round(busy, NULL, &rounds), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_protocol_round(busy, &index, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_protocol_round(idle, &index, &rounds), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_ERR(cgm_status_protocol_round(busy, &index, &rounds));
  CHECK(index == 0 && rounds == 2); /* a parameter change: 2 ACK rounds */
  cgm_status_free(idle);
  cgm_status_free(busy);
  PASS();
}
