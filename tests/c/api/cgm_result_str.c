/* cgm_result_str: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  for (uint32_t c = CGM_RESULT_OK; c <= CGM_RESULT_PANIC; c++) {
    const char *s = cgm_result_str(c);
    CHECK(s != NULL && s[0] != '\0');
    CHECK(strcmp(s, "unknown result code") != 0);
  }
  CHECK(strcmp(cgm_result_str(CGM_RESULT_OK), "ok") == 0);
  CHECK(strcmp(cgm_result_str(CGM_RESULT_TIMEOUT), "timed out") == 0);
  CHECK(strcmp(cgm_result_str(CGM_RESULT_PANIC + 1), "unknown result code") == 0);
  CHECK(strcmp(cgm_result_str(UINT32_MAX), "unknown result code") == 0);
  PASS();
}
