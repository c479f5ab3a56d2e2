/* cgm_status_link: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *st = test_status_idle();
  uint32_t peer = 0, misses = 9;
  bool outgoing = false, pending = true;
  uint64_t interval = 0;
  FAIL_ON_SUCCESS(cgm_status_link(NULL, 0, &peer, &outgoing, &interval, &misses, &pending), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_link(st, 0, NULL, &outgoing, &interval, &misses, &pending), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_link(st, 0, &peer, NULL, &interval, &misses, &pending), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_link(st, 0, &peer, &outgoing, NULL, &misses, &pending), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_link(st, 0, &peer, &outgoing, &interval, NULL, &pending), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_link(st, 0, &peer, &outgoing, &interval, &misses, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_link(st, 2, &peer, &outgoing, &interval, &misses, &pending), CGM_RESULT_INVALID_ARGUMENT);
  for (size_t i = 0; i < 2; i++) {
    FAIL_ON_ERR(cgm_status_link(st, i, &peer, &outgoing, &interval, &misses, &pending));
    CHECK(peer == 2 || peer == 3);
    CHECK(interval == 1000 && !pending);
  }
  cgm_status_free(st);
  PASS();
}
