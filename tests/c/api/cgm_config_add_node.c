/* cgm_config_add_node: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_config *cfg = NULL;
  FAIL_ON_ERR(cgm_config_new(1, "prod", &cfg));
  FAIL_ON_SUCCESS(cgm_config_add_node(NULL, 1, "127.0.0.1:7401"), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_add_node(cfg, 1, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_add_node(cfg, 0, "127.0.0.1:7401"), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_add_node(cfg, 1, "not an address"), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_add_node(cfg, 1, NOT_UTF8), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  FAIL_ON_ERR(cgm_config_add_node(cfg, 1, "127.0.0.1:7401"));
  FAIL_ON_ERR(cgm_config_add_node(cfg, 2, "[::1]:7402"));
  FAIL_ON_SUCCESS(cgm_config_add_node(cfg, 1, "127.0.0.1:7403"), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("twice");
  cgm_config_free(cfg);
  PASS();
}
