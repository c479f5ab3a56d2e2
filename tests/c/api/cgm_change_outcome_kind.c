/* cgm_change_outcome_kind: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_change_outcome *o = test_outcome_committed();
  const char * v;
  memset(&v, 0, sizeof v);
  FAIL_ON_SUCCESS(cgm_change_outcome_kind(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_kind(o, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_change_outcome_kind(o, &v));
  CHECK(strcmp(v, "param-change") == 0);
  cgm_change_outcome_free(o);
  PASS();
}
