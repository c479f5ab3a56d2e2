/* cgm_config_set_veto_hook: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_config *cfg = NULL;
  FAIL_ON_ERR(cgm_config_new(1, "prod", &cfg));
  FAIL_ON_SUCCESS(cgm_config_set_veto_hook(NULL, true), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_config_set_veto_hook(cfg, true));
  FAIL_ON_ERR(cgm_config_set_veto_hook(cfg, false));
  cgm_config_free(cfg);
  /* Its effect is tested with cgm_veto_answer and fun/veto_rollback. */
  PASS();
}
