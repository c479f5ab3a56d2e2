/* cgm_config_set_key: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_config *cfg = NULL;
  FAIL_ON_ERR(cgm_config_new(1, "prod", &cfg));
  FAIL_ON_SUCCESS(cgm_config_set_key(NULL, TEST_KEY, sizeof TEST_KEY), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_set_key(cfg, NULL, 32), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_set_key(cfg, NULL, 0), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_set_key(cfg, TEST_KEY, 31), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("32 bytes");
  FAIL_ON_ERR(cgm_config_set_key(cfg, TEST_KEY, sizeof TEST_KEY));
  cgm_config_free(cfg);
  PASS();
}
