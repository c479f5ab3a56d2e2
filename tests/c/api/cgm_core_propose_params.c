/* cgm_core_propose_params: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  uint64_t txid = 0, v = 0, conf = 0;
  cgm_status *st = NULL;
  cgm_param_value ch[2] = {{CGM_PARAM_HEARTBEAT_INTERVAL, 200}, {CGM_PARAM_HEARTBEAT_TIMEOUT, 600}};
  cgm_param_value dup[2] = {{CGM_PARAM_SEND_WINDOW_SIZE, 5}, {CGM_PARAM_SEND_WINDOW_SIZE, 6}};
  test_sim_formed(&s);
  FAIL_ON_SUCCESS(cgm_core_propose_params(NULL, s.now, ch, 2, &txid), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_propose_params(s.core[0], s.now, NULL, 2, &txid), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_propose_params(s.core[0], s.now, ch, 2, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_propose_params(s.core[0], s.now, ch, 0, &txid), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_SUCCESS(cgm_core_propose_params(s.core[0], s.now, dup, 2, &txid), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_ERR(cgm_core_propose_params(s.core[0], s.now, ch, 2, &txid));
  test_sim_run(&s, 500000);
  FAIL_ON_ERR(cgm_core_query_status(s.core[1], s.now, &st));
  FAIL_ON_ERR(cgm_status_param(st, CGM_PARAM_HEARTBEAT_INTERVAL, &v, &conf));
  CHECK(v == 200);
  FAIL_ON_ERR(cgm_status_param(st, CGM_PARAM_HEARTBEAT_TIMEOUT, &v, &conf));
  CHECK(v == 600);
  cgm_status_free(st);
  test_sim_free(&s);
  PASS();
}
