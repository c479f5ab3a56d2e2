/* cgm_status_limit: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_config *cfg = NULL;
  cgm_core *core = NULL;
  cgm_status *st = NULL;
  bool has = true;
  uint64_t limit = 1;
  FAIL_ON_ERR(cgm_config_new(1, "test", &cfg));
  FAIL_ON_ERR(cgm_config_add_node(cfg, 1, "127.0.0.1:7401"));
  FAIL_ON_ERR(cgm_config_set_insecure(cfg, true));
  FAIL_ON_ERR(cgm_config_set_limit(cfg, CGM_PARAM_MAX_FRAGMENT_SIZE, 1200));
  FAIL_ON_ERR(cgm_core_new_from_config(cfg, 1, 0, &core));
  FAIL_ON_ERR(cgm_core_query_status(core, 0, &st));
  FAIL_ON_SUCCESS(cgm_status_limit(NULL, CGM_PARAM_MAX_FRAGMENT_SIZE, &has, &limit), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_limit(st, CGM_PARAM_MAX_FRAGMENT_SIZE, NULL, &limit), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_limit(st, CGM_PARAM_MAX_FRAGMENT_SIZE, &has, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_limit(st, CGM_PARAM_COUNT, &has, &limit), CGM_RESULT_INVALID_PARAMETER);
  FAIL_ON_ERR(cgm_status_limit(st, CGM_PARAM_MAX_FRAGMENT_SIZE, &has, &limit));
  CHECK(has && limit == 1200);
  FAIL_ON_ERR(cgm_status_limit(st, CGM_PARAM_SEND_WINDOW_SIZE, &has, &limit));
  CHECK(!has && limit == 0);
  cgm_status_free(st);
  cgm_core_free(core);
  cgm_config_free(cfg);
  PASS();
}
