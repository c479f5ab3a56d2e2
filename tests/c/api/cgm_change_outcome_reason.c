/* cgm_change_outcome_reason: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_change_outcome *o = test_outcome_committed();
  const char * v;
  memset(&v, 0, sizeof v);
  FAIL_ON_SUCCESS(cgm_change_outcome_reason(NULL, &v), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_reason(o, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_change_outcome_reason(o, &v));
  CHECK(v == NULL);
  cgm_change_outcome_free(o);
  /* A rolled-back change's reason: cgm_config_set_limit, fun/veto_rollback. */
  PASS();
}
