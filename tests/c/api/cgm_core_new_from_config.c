/* cgm_core_new_from_config: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_config *cfg;
  cgm_core *core = NULL;
  cgm_status *st = NULL;
  uint64_t eff = 0, conf = 0;
  test_cluster_init(&c, 3);
  cfg = test_config(&c, 2);
  FAIL_ON_ERR(cgm_config_set_param(cfg, CGM_PARAM_SEND_WINDOW_SIZE, 16));
  FAIL_ON_SUCCESS(cgm_core_new_from_config(NULL, 1, 0, &core), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_new_from_config(cfg, 1, 0, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_core_new_from_config(cfg, 1, 0, &core));
  FAIL_ON_ERR(cgm_core_query_status(core, 0, &st));
  FAIL_ON_ERR(cgm_status_param(st, CGM_PARAM_SEND_WINDOW_SIZE, &eff, &conf));
  CHECK(eff == 16 && conf == 16);
  cgm_status_free(st);
  cgm_core_free(core);
  cgm_config_free(cfg);
  /* A node that is not among its configuration's nodes. */
  FAIL_ON_ERR(cgm_config_new(9, "test", &cfg));
  FAIL_ON_ERR(cgm_config_add_node(cfg, 1, "127.0.0.1:1"));
  FAIL_ON_SUCCESS(cgm_core_new_from_config(cfg, 1, 0, &core), CGM_RESULT_INVALID_ARGUMENT);
  cgm_config_free(cfg);
  /* The veto hook: cgm_core_event_wait. */
  PASS();
}
