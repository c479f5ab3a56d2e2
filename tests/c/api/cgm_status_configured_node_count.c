/* cgm_status_configured_node_count: NULL arguments first, then the good call. */
#include "test.h"

int main(void) {
  cgm_status *st = test_status_idle();
  size_t n = 0;
  FAIL_ON_SUCCESS(cgm_status_configured_node_count(NULL, &n), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_configured_node_count(st, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_status_configured_node_count(st, &n));
  CHECK(n == 3);
  cgm_status_free(st);
  PASS();
}
