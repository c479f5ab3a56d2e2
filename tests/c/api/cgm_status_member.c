/* cgm_status_member: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *st = test_status_idle();
  uint32_t id = 0;
  FAIL_ON_SUCCESS(cgm_status_member(NULL, 0, &id), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_member(st, 0, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_member(st, 3, &id), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("out of range");
  for (size_t i = 0; i < 3; i++) {
    FAIL_ON_ERR(cgm_status_member(st, i, &id));
    CHECK(id == i + 1);
  }
  cgm_status_free(st);
  PASS();
}
