/* cgm_core_query_status: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  cgm_status *st = NULL;
  uint32_t id = 0;
  test_sim_formed(&s);
  FAIL_ON_SUCCESS(cgm_core_query_status(NULL, s.now, &st), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_query_status(s.core[1], s.now, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_core_query_status(s.core[1], s.now, &st));
  FAIL_ON_ERR(cgm_status_node(st, &id));
  CHECK(id == 2);
  cgm_status_free(st);
  test_sim_free(&s);
  PASS();
}
