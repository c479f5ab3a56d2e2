/* cgm_propose_param: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_change_outcome *sentinel = (cgm_change_outcome *)(uintptr_t)0x10, *o = sentinel;
  uint64_t v = 0;
  bool committed = false;
  test_cluster_start(&c, 3);
  FAIL_ON_SUCCESS(cgm_propose_param(NULL, CGM_PARAM_SEND_WINDOW_SIZE, 32, 5000, &o), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_propose_param(c.node[0], CGM_PARAM_SEND_WINDOW_SIZE, 32, 5000, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_propose_param(GARBAGE_NODE, CGM_PARAM_SEND_WINDOW_SIZE, 32, 5000, &o), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_propose_param(c.node[0], 11, 32, 5000, &o), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_SUCCESS(cgm_propose_param(c.node[0], CGM_PARAM_SEND_WINDOW_SIZE, 0, 5000, &o), CGM_RESULT_INVALID_PARAMETER);
  CHECK_ERROR_MENTIONS("send-window-size = 0 is out of range");
  FAIL_ON_SUCCESS(cgm_propose_param(c.node[0], CGM_PARAM_HEARTBEAT_TIMEOUT, 900, 5000, &o), CGM_RESULT_INVALID_PARAMETER);
  CHECK_ERROR_MENTIONS("must exceed heartbeat-interval");
  CHECK(o == sentinel); /* not written on failure */
  FAIL_ON_ERR(cgm_propose_param(c.node[1], CGM_PARAM_SEND_WINDOW_SIZE, 32, 5000, &o));
  FAIL_ON_ERR(cgm_change_outcome_committed(o, &committed));
  CHECK(committed);
  cgm_change_outcome_free(o);
  for (unsigned i = 0; i < 3; i++) {
    FAIL_ON_ERR(cgm_get_param(c.node[i], CGM_PARAM_SEND_WINDOW_SIZE, &v));
    CHECK(v == 32);
  }
  test_cluster_free(&c);
  PASS();
}
