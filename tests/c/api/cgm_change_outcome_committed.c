/* cgm_change_outcome_committed: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_change_outcome *o = test_outcome_committed();
  bool v;
  memset(&v, 0, sizeof v);
  FAIL_ON_SUCCESS(cgm_change_outcome_committed(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_committed(o, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_change_outcome_committed(o, &v));
  CHECK(v);
  cgm_change_outcome_free(o);
  PASS();
}
