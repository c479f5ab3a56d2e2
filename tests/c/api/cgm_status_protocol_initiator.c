/* cgm_status_protocol_initiator: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *idle = test_status_idle(), *busy = test_status_busy();
  uint32_t node = 0;
  uint64_t txid = 0;
  FAIL_ON_SUCCESS(cgm_status_protocol_initiator(NULL, &node, &txid), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_protocol_initiator(busy, NULL, &txid), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_protocol_initiator(busy, &node, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_protocol_initiator(idle, &node, &txid), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_ERR(cgm_status_protocol_initiator(busy, &node, &txid));
  CHECK(node == 1 && txid != 0);
  cgm_status_free(idle);
  cgm_status_free(busy);
  PASS();
}
