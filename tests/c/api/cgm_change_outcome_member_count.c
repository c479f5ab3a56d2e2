/* cgm_change_outcome_member_count: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_change_outcome *o = test_outcome_committed();
  size_t v;
  memset(&v, 0, sizeof v);
  FAIL_ON_SUCCESS(cgm_change_outcome_member_count(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_member_count(o, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_change_outcome_member_count(o, &v));
  CHECK(v == 3);
  cgm_change_outcome_free(o);
  PASS();
}
