/* cgm_run_protocol: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_change_outcome *o = NULL;
  bool committed = false;
  size_t n = 0;
  const uint8_t payload[] = "hello";
  test_cluster_start(&c, 2);
  FAIL_ON_SUCCESS(cgm_run_protocol(NULL, payload, 5, 1, NULL, 5000, &o), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_run_protocol(c.node[0], payload, 5, 1, NULL, 5000, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_run_protocol(c.node[0], NULL, 5, 1, NULL, 5000, &o), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_run_protocol(GARBAGE_NODE, payload, 5, 1, NULL, 5000, &o), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_run_protocol(c.node[0], payload, 5, 0, NULL, 5000, &o), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_run_protocol(c.node[0], payload, 5, 256, NULL, 5000, &o), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_run_protocol(c.node[0], payload, 5, 1, NOT_UTF8, 5000, &o), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  {
    /* One byte over the largest payload a protocol carries (1 MiB). */
    size_t big_len = ((size_t)1 << 20) + 1;
    uint8_t *big = calloc(big_len, 1);
    CHECK(big != NULL);
    FAIL_ON_SUCCESS(cgm_run_protocol(c.node[0], big, big_len, 1, NULL, 5000, &o), CGM_RESULT_INVALID_ARGUMENT);
    CHECK_ERROR_MENTIONS("larger than the largest");
    free(big);
  }
  FAIL_ON_ERR(cgm_run_protocol(c.node[0], payload, 5, 3, NULL, 5000, &o));
  FAIL_ON_ERR(cgm_change_outcome_committed(o, &committed));
  CHECK(committed);
  FAIL_ON_ERR(cgm_change_outcome_member_count(o, &n));
  CHECK(n == 2);
  cgm_change_outcome_free(o);
  FAIL_ON_ERR(cgm_run_protocol(c.node[1], NULL, 0, 1, "transport-config", 5000, &o));
  cgm_change_outcome_free(o);
  test_cluster_free(&c);
  PASS();
}
