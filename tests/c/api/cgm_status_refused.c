/* cgm_status_refused: NULL arguments first, then a member (never refused),
 * then a node outside the group's node set (refused, and told why). */
#include "test.h"

int main(void) {
  test_sim s;
  uint32_t ids[4] = {1, 2, 3, 4}, by = 99;
  uint64_t generation = 99;
  cgm_status *idle = test_status_idle(), *st = NULL;
  FAIL_ON_SUCCESS(cgm_status_refused(NULL, &by, &generation), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_refused(idle, NULL, &generation), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_status_refused(idle, &by, NULL));
  CHECK(by == 0);
  /* Node 4's configuration lists it, but the group's node set is {1, 2, 3}:
   * no node change added it. */
  test_sim_formed(&s);
  FAIL_ON_ERR(cgm_core_new(4, 104, ids, 4, s.now, &s.core[3]));
  s.n = 4;
  test_sim_run(&s, 2000000);
  FAIL_ON_ERR(cgm_core_query_status(s.core[3], s.now, &st));
  FAIL_ON_ERR(cgm_status_refused(st, &by, &generation));
  CHECK(by >= 1 && by <= 3);
  CHECK(generation == 0);
  cgm_status_free(st);
  FAIL_ON_ERR(cgm_core_query_status(s.core[0], s.now, &st));
  FAIL_ON_ERR(cgm_status_refused(st, &by, &generation));
  CHECK(by == 0 && generation == 0);
  cgm_status_free(st);
  cgm_status_free(idle);
  test_sim_free(&s);
  PASS();
}
