/* cgm_status_peer: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *st = test_status_idle();
  uint32_t id = 0;
  uint64_t round = 9, age = 0;
  FAIL_ON_SUCCESS(cgm_status_peer(NULL, 0, &id, &round, &age), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_peer(st, 0, NULL, &round, &age), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_peer(st, 0, &id, NULL, &age), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_peer(st, 0, &id, &round, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_peer(st, 2, &id, &round, &age), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_ERR(cgm_status_peer(st, 0, &id, &round, &age));
  CHECK(id == 2 && round == 0 && age != CGM_NEVER);
  FAIL_ON_ERR(cgm_status_peer(st, 1, &id, &round, &age));
  CHECK(id == 3);
  cgm_status_free(st);
  PASS();
}
