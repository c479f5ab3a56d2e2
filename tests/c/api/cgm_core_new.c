/* cgm_core_new: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_core *core = NULL;
  uint32_t ids[3] = {1, 2, 3}, dup[3] = {1, 2, 2}, zero[2] = {0, 1};
  FAIL_ON_SUCCESS(cgm_core_new(1, 1, NULL, 3, 0, &core), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_new(1, 1, ids, 3, 0, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_new(0, 1, ids, 3, 0, &core), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_new(4, 1, ids, 3, 0, &core), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not among the configured nodes");
  FAIL_ON_SUCCESS(cgm_core_new(1, 1, dup, 3, 0, &core), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_new(1, 1, zero, 2, 0, &core), CGM_RESULT_INVALID_ARGUMENT);
  CHECK(core == NULL);
  FAIL_ON_ERR(cgm_core_new(2, 7, ids, 3, 0, &core));
  CHECK(core != NULL);
  cgm_core_free(core);
  PASS();
}
