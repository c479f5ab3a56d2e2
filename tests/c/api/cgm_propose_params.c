/* cgm_propose_params: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_change_outcome *o = NULL;
  uint64_t v = 0;
  cgm_param_value ch[2] = {{CGM_PARAM_HEARTBEAT_INTERVAL, 500}, {CGM_PARAM_HEARTBEAT_TIMEOUT, 900}};
  cgm_param_value dup[2] = {{CGM_PARAM_SEND_WINDOW_SIZE, 5}, {CGM_PARAM_SEND_WINDOW_SIZE, 6}};
  cgm_param_value bad[1] = {{99, 5}};
  test_cluster_start(&c, 2);
  FAIL_ON_SUCCESS(cgm_propose_params(NULL, ch, 2, 5000, &o), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_propose_params(c.node[0], NULL, 2, 5000, &o), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_propose_params(c.node[0], ch, 2, 5000, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_propose_params(GARBAGE_NODE, ch, 2, 5000, &o), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_propose_params(c.node[0], ch, 0, 5000, &o), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_SUCCESS(cgm_propose_params(c.node[0], dup, 2, 5000, &o), CGM_RESULT_INVALID_PARAMETER);
  CHECK_ERROR_MENTIONS("more than once");
  FAIL_ON_SUCCESS(cgm_propose_params(c.node[0], bad, 1, 5000, &o), CGM_RESULT_INVALID_PARAMETER);
  /* Alone, the timeout change breaks a rule; together they are valid. */
  FAIL_ON_SUCCESS(cgm_propose_params(c.node[0], ch + 1, 1, 5000, &o), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_ERR(cgm_propose_params(c.node[0], ch, 2, 5000, &o));
  cgm_change_outcome_free(o);
  FAIL_ON_ERR(cgm_get_param(c.node[1], CGM_PARAM_HEARTBEAT_INTERVAL, &v));
  CHECK(v == 500);
  FAIL_ON_ERR(cgm_get_param(c.node[1], CGM_PARAM_HEARTBEAT_TIMEOUT, &v));
  CHECK(v == 900);
  test_cluster_free(&c);
  PASS();
}
