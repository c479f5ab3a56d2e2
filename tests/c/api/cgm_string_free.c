/* cgm_string_free: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *st = test_status_idle();
  char *json = NULL;
  cgm_string_free(NULL);
  FAIL_ON_ERR(cgm_status_to_json(st, &json));
  cgm_string_free(json);
  cgm_status_free(st);
  PASS();
}
