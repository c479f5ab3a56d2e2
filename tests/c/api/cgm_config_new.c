/* cgm_config_new: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_config *cfg = NULL;
  FAIL_ON_SUCCESS(cgm_config_new(1, NULL, &cfg), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_new(1, "prod", NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_new(0, "prod", &cfg), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("reserved");
  FAIL_ON_SUCCESS(cgm_config_new(1, NOT_UTF8, &cfg), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  CHECK(cfg == NULL);
  FAIL_ON_ERR(cgm_config_new(1, "prod", &cfg));
  CHECK(cfg != NULL);
  cgm_config_free(cfg);
  PASS();
}
