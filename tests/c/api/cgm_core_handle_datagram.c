/* cgm_core_handle_datagram: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  cgm_status *st = NULL;
  uint64_t malformed = 0;
  const uint8_t junk[5] = {1, 2, 3, 4, 5};
  test_sim_formed(&s);
  FAIL_ON_SUCCESS(cgm_core_handle_datagram(NULL, s.now, 2, junk, sizeof junk), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_handle_datagram(s.core[0], s.now, 2, NULL, 5), CGM_RESULT_NULL_ARGUMENT);
  /* Undecodable bytes are dropped and counted, never acted on. */
  FAIL_ON_ERR(cgm_core_handle_datagram(s.core[0], s.now, 2, junk, sizeof junk));
  FAIL_ON_ERR(cgm_core_handle_datagram(s.core[0], s.now, 2, junk, 0));
  FAIL_ON_ERR(cgm_core_query_status(s.core[0], s.now, &st));
  FAIL_ON_ERR(cgm_status_counter(st, CGM_COUNTER_MALFORMED, &malformed));
  CHECK(malformed == 2);
  cgm_status_free(st);
  test_sim_free(&s);
  PASS();
}
