/* cgm_key_fingerprint: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  uint8_t other[CGM_KEY_LEN];
  uint64_t fp = 0, again = 0, fp_other = 0;
  FAIL_ON_SUCCESS(cgm_key_fingerprint(NULL, CGM_KEY_LEN, &fp), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_key_fingerprint(TEST_KEY, CGM_KEY_LEN, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_key_fingerprint(TEST_KEY, 16, &fp), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("32 bytes");
  CHECK(fp == 0);
  FAIL_ON_ERR(cgm_key_fingerprint(TEST_KEY, CGM_KEY_LEN, &fp));
  FAIL_ON_ERR(cgm_key_fingerprint(TEST_KEY, CGM_KEY_LEN, &again));
  CHECK(fp != 0 && fp == again);
  FAIL_ON_ERR(cgm_key_generate(other));
  FAIL_ON_ERR(cgm_key_fingerprint(other, CGM_KEY_LEN, &fp_other));
  CHECK(fp_other != fp);
  PASS();
}
