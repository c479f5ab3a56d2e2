/* cgm_status_not_acked: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *idle = test_status_idle(), *busy = test_status_busy();
  uint32_t id = 0;
  FAIL_ON_SUCCESS(cgm_status_not_acked(NULL, 0, &id), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_not_acked(busy, 0, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_not_acked(idle, 0, &id), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_not_acked(busy, 2, &id), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_ERR(cgm_status_not_acked(busy, 0, &id));
  CHECK(id == 2);
  FAIL_ON_ERR(cgm_status_not_acked(busy, 1, &id));
  CHECK(id == 3);
  cgm_status_free(idle);
  cgm_status_free(busy);
  PASS();
}
