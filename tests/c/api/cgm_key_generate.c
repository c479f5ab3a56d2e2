/* cgm_key_generate: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  uint8_t a[CGM_KEY_LEN], b[CGM_KEY_LEN];
  cgm_config *cfg = NULL;
  FAIL_ON_SUCCESS(cgm_key_generate(NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_key_generate(a));
  FAIL_ON_ERR(cgm_key_generate(b));
  CHECK(memcmp(a, b, sizeof a) != 0);
  FAIL_ON_ERR(cgm_config_new(1, "prod", &cfg));
  FAIL_ON_ERR(cgm_config_set_key(cfg, a, sizeof a));
  cgm_config_free(cfg);
  PASS();
}
