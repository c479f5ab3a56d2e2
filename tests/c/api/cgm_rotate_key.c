/* cgm_rotate_key: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

/* Writes `key` to a new file under /tmp; its path goes to `path`. */
static void write_key(const uint8_t *key, char *path, size_t len) {
  snprintf(path, len, "/tmp/cgm-test-key-XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0 || write(fd, key, CGM_KEY_LEN) != CGM_KEY_LEN || close(fd) != 0)
    FAIL("cannot write a key file");
}

int main(void) {
  test_cluster c;
  cgm_change_outcome *o = NULL;
  cgm_status *st = NULL;
  uint8_t key[CGM_KEY_LEN];
  char path[64], same[64];
  uint64_t fp = 0, committed = 0, sending = 0;
  bool ok = false, rotating = true;
  const char *kind = NULL;
  FAIL_ON_ERR(cgm_key_generate(key));
  FAIL_ON_ERR(cgm_key_fingerprint(key, CGM_KEY_LEN, &fp));
  write_key(key, path, sizeof path);
  write_key(TEST_KEY, same, sizeof same);
  test_cluster_start(&c, 2);
  FAIL_ON_SUCCESS(cgm_rotate_key(NULL, path, 5000, &o), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_rotate_key(c.node[0], NULL, 5000, &o), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_rotate_key(c.node[0], path, 5000, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_rotate_key(GARBAGE_NODE, path, 5000, &o), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_SUCCESS(cgm_rotate_key(c.node[0], NOT_UTF8, 5000, &o), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_rotate_key(c.node[0], "/nonexistent/cgm.key", 5000, &o), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("/nonexistent/cgm.key");
  FAIL_ON_SUCCESS(cgm_rotate_key(c.node[0], same, 5000, &o), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("already the cluster's key");
  CHECK(o == NULL);
  FAIL_ON_ERR(cgm_rotate_key(c.node[0], path, 5000, &o));
  FAIL_ON_ERR(cgm_change_outcome_committed(o, &ok));
  FAIL_ON_ERR(cgm_change_outcome_kind(o, &kind));
  CHECK(ok && strcmp(kind, "key-rotation") == 0);
  cgm_change_outcome_free(o);
  /* Both members run under the new key. */
  for (unsigned i = 0; i < 2; i++) {
    FAIL_ON_ERR(cgm_query_status(c.node[0], i + 1, 2000, &st));
    FAIL_ON_ERR(cgm_status_key(st, &committed, &sending, &rotating));
    CHECK(committed == fp && sending == fp && !rotating);
    cgm_status_free(st);
  }
  test_cluster_free(&c);
  unlink(path);
  unlink(same);
  PASS();
}
