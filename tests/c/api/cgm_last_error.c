/* cgm_last_error: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  char small[8], big[512];
  size_t len;
  memset(small, 'x', sizeof small);
  /* NULL buffer: nothing written, full length returned. */
  FAIL_ON_SUCCESS(cgm_param_from_name("no-such-parameter", &(cgm_param){0}), CGM_RESULT_INVALID_PARAMETER);
  len = cgm_last_error(NULL, 0);
  CHECK(len > sizeof small);
  CHECK(cgm_last_error(NULL, 5) == len);
  CHECK(cgm_last_error(small, 0) == len && small[0] == 'x');
  /* Truncated, NUL-terminated. */
  CHECK(cgm_last_error(small, sizeof small) == len);
  CHECK(strlen(small) == sizeof small - 1);
  /* Whole. */
  CHECK(cgm_last_error(big, sizeof big) == len);
  CHECK(strlen(big) == len);
  CHECK(strstr(big, "no-such-parameter") != NULL);
  CHECK(strncmp(big, small, sizeof small - 1) == 0);
  /* A successful call leaves it; a new failure replaces it. */
  FAIL_ON_ERR(cgm_param_is_global(CGM_PARAM_HEARTBEAT_INTERVAL, &(bool){false}));
  CHECK(cgm_last_error(NULL, 0) == len);
  FAIL_ON_SUCCESS(cgm_param_is_global(99, &(bool){false}), CGM_RESULT_INVALID_PARAMETER);
  CHECK_ERROR_MENTIONS("unknown parameter number 99");
  PASS();
}
