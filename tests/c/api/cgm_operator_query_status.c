/* cgm_operator_query_status: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_config *op, *nokey = NULL, *wrong;
  cgm_status *st = NULL;
  uint32_t id = 0;
  uint8_t key[CGM_KEY_LEN];
  char addr[64];
  test_cluster_start(&c, 2);
  op = test_config(&c, 1);
  FAIL_ON_SUCCESS(cgm_operator_query_status(NULL, 2, 1000, &st), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_operator_query_status(op, 2, 1000, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_operator_query_status(op, 7, 1000, &st), CGM_RESULT_NOT_MEMBER);
  FAIL_ON_ERR(cgm_config_new(1, "test", &nokey));
  snprintf(addr, sizeof addr, "127.0.0.1:%u", c.ports[1]);
  FAIL_ON_ERR(cgm_config_add_node(nokey, 2, addr));
  FAIL_ON_SUCCESS(cgm_operator_query_status(nokey, 2, 1000, &st), CGM_RESULT_AUTHENTICATION);
  /* With the wrong key the member never answers. */
  wrong = test_config(&c, 1);
  FAIL_ON_ERR(cgm_key_generate(key));
  FAIL_ON_ERR(cgm_config_set_key(wrong, key, sizeof key));
  FAIL_ON_SUCCESS(cgm_operator_query_status(wrong, 2, 300, &st), CGM_RESULT_TIMEOUT);
  FAIL_ON_ERR(cgm_operator_query_status(op, 2, 5000, &st));
  FAIL_ON_ERR(cgm_status_node(st, &id));
  CHECK(id == 2);
  cgm_status_free(st);
  cgm_config_free(op);
  cgm_config_free(nokey);
  cgm_config_free(wrong);
  test_cluster_free(&c);
  PASS();
}
