/* cgm_change_outcome_member_payload: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_change_outcome *o = test_outcome_committed();
  const uint8_t *data = (const uint8_t *)"x";
  size_t len = 9;
  FAIL_ON_SUCCESS(cgm_change_outcome_member_payload(NULL, 0, &data, &len), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_member_payload(o, 0, NULL, &len), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_member_payload(o, 0, &data, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_member_payload(o, 5, &data, &len), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_ERR(cgm_change_outcome_member_payload(o, 0, &data, &len));
  CHECK(len == 0 && data == NULL); /* parameter changes carry no bytes */
  cgm_change_outcome_free(o);
  /* Bytes from hosts' steps: cgm_run_host_protocol. */
  PASS();
}
