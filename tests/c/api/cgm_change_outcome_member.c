/* cgm_change_outcome_member: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_change_outcome *o = test_outcome_committed();
  uint32_t id = 0;
  bool ok = false;
  const char *reason = "x";
  FAIL_ON_SUCCESS(cgm_change_outcome_member(NULL, 0, &id, &ok, &reason), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_member(o, 0, NULL, &ok, &reason), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_member(o, 0, &id, NULL, &reason), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_member(o, 0, &id, &ok, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_member(o, 3, &id, &ok, &reason), CGM_RESULT_INVALID_ARGUMENT);
  for (size_t i = 0; i < 3; i++) {
    FAIL_ON_ERR(cgm_change_outcome_member(o, i, &id, &ok, &reason));
    CHECK(id == i + 1 && ok && reason == NULL);
  }
  cgm_change_outcome_free(o);
  PASS();
}
