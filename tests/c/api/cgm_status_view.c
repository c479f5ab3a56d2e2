/* cgm_status_view: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *st = test_status_idle();
  uint64_t epoch = 0;
  uint32_t leader = 0;
  FAIL_ON_SUCCESS(cgm_status_view(NULL, &epoch, &leader), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_view(st, NULL, &leader), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_view(st, &epoch, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_status_view(st, &epoch, &leader));
  CHECK(epoch >= 1 && leader >= 1 && leader <= 3);
  cgm_status_free(st);
  PASS();
}
