/* cgm_change_outcome_proposal: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_change_outcome *o = test_outcome_committed();
  uint32_t node = 0;
  uint64_t txid = 0;
  FAIL_ON_SUCCESS(cgm_change_outcome_proposal(NULL, &node, &txid), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_proposal(o, NULL, &txid), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_proposal(o, &node, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_change_outcome_proposal(o, &node, &txid));
  CHECK(node == 1 && txid != 0);
  cgm_change_outcome_free(o);
  PASS();
}
