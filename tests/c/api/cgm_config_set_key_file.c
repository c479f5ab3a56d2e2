/* cgm_config_set_key_file: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_config *cfg = NULL;
  char path[] = "/tmp/cgm-key-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FAIL_ON_ERR(cgm_config_new(1, "prod", &cfg));
  FAIL_ON_SUCCESS(cgm_config_set_key_file(NULL, path), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_set_key_file(cfg, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_set_key_file(cfg, "/nonexistent/cgm.key"), CGM_RESULT_IO);
  FAIL_ON_SUCCESS(cgm_config_set_key_file(cfg, NOT_UTF8), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  CHECK(write(fd, TEST_KEY, 16) == 16);
  FAIL_ON_SUCCESS(cgm_config_set_key_file(cfg, path), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("32 bytes");
  CHECK(write(fd, TEST_KEY + 16, 16) == 16);
  FAIL_ON_ERR(cgm_config_set_key_file(cfg, path));
  close(fd);
  unlink(path);
  cgm_config_free(cfg);
  PASS();
}
