/* cgm_change_outcome_to_json: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_change_outcome *o = test_outcome_committed();
  char *json = NULL;
  FAIL_ON_SUCCESS(cgm_change_outcome_to_json(NULL, &json), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_change_outcome_to_json(o, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_change_outcome_to_json(o, &json));
  CHECK(strstr(json, "\"committed\":true") != NULL);
  cgm_string_free(json);
  cgm_change_outcome_free(o);
  PASS();
}
