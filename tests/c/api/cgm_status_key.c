/* cgm_status_key: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_config *cfg = NULL;
  cgm_core *core = NULL;
  cgm_status *st = NULL;
  uint64_t committed = 1, sending = 1, fp = 0;
  bool rotating = true;
  cgm_status *idle = test_status_idle();
  FAIL_ON_SUCCESS(cgm_status_key(NULL, &committed, &sending, &rotating), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_key(idle, NULL, &sending, &rotating), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_key(idle, &committed, NULL, &rotating), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_status_key(idle, &committed, &sending, NULL), CGM_RESULT_NULL_ARGUMENT);
  /* A cluster without a key. */
  FAIL_ON_ERR(cgm_status_key(idle, &committed, &sending, &rotating));
  CHECK(committed == 0 && sending == 0 && !rotating);
  /* A keyed member: the fingerprint of its key, no rotation. */
  FAIL_ON_ERR(cgm_config_new(1, "test", &cfg));
  FAIL_ON_ERR(cgm_config_add_node(cfg, 1, "127.0.0.1:7401"));
  FAIL_ON_ERR(cgm_config_set_key(cfg, TEST_KEY, sizeof TEST_KEY));
  FAIL_ON_ERR(cgm_core_new_from_config(cfg, 1, 0, &core));
  FAIL_ON_ERR(cgm_core_query_status(core, 0, &st));
  FAIL_ON_ERR(cgm_status_key(st, &committed, &sending, &rotating));
  FAIL_ON_ERR(cgm_key_fingerprint(TEST_KEY, CGM_KEY_LEN, &fp));
  CHECK(committed == fp && sending == fp && !rotating);
  cgm_status_free(st);
  cgm_status_free(idle);
  cgm_core_free(core);
  cgm_config_free(cfg);
  PASS();
}
