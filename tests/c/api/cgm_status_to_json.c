/* cgm_status_to_json: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *st = test_status_busy();
  char *json = NULL;
  FAIL_ON_SUCCESS(cgm_status_to_json(NULL, &json), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_to_json(st, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_status_to_json(st, &json));
  CHECK(json[0] == '{');
  CHECK(strstr(json, "\"node\":1") != NULL);
  CHECK(strstr(json, "param-change") != NULL);
  cgm_string_free(json);
  cgm_status_free(st);
  PASS();
}
