/* cgm_status_peer_queue: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *st = test_status_idle();
  uint64_t queued = 9, in_flight = 9;
  FAIL_ON_SUCCESS(cgm_status_peer_queue(NULL, 0, &queued, &in_flight), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_peer_queue(st, 0, NULL, &in_flight), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_peer_queue(st, 0, &queued, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_peer_queue(st, 7, &queued, &in_flight), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_ERR(cgm_status_peer_queue(st, 0, &queued, &in_flight));
  CHECK(queued == 0);
  cgm_status_free(st);
  PASS();
}
