/* cgm_status_peer_count: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *idle = test_status_idle(), *busy = test_status_busy();
  size_t v;
  memset(&v, 0, sizeof v);
  FAIL_ON_SUCCESS(cgm_status_peer_count(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_peer_count(idle, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_status_peer_count(idle, &v));
  CHECK(v == 2);
  cgm_status_free(idle);
  cgm_status_free(busy);
  PASS();
}
