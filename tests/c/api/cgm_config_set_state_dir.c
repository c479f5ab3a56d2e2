/* cgm_config_set_state_dir: NULL arguments first, then bad arguments, then the
 * good call: a node started with a state directory writes its state there,
 * resumes from it, and refuses a damaged one, naming the file. */
#include "test.h"

int main(void) {
  test_cluster c;
  cgm_config *cfg = NULL;
  cgm_node *node = NULL;
  cgm_core *core = NULL;
  char dir[] = "/tmp/cgm-state-XXXXXX";
  char file[64];
  FILE *f;
  CHECK(mkdtemp(dir) != NULL);
  snprintf(file, sizeof file, "%s/state", dir);
  test_cluster_init(&c, 1);
  cfg = test_config(&c, 1);
  FAIL_ON_SUCCESS(cgm_config_set_state_dir(NULL, dir), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_set_state_dir(cfg, NOT_UTF8), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  FAIL_ON_ERR(cgm_config_set_state_dir(cfg, dir));
  /* A sans-IO core persists nothing: a state directory is refused there. */
  FAIL_ON_SUCCESS(cgm_core_new_from_config(cfg, 1, 0, &core), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("state_dir");
  CHECK(core == NULL);
  /* Started twice: the second start resumes from the file the first wrote. */
  for (int i = 0; i < 2; i++) {
    FAIL_ON_ERR(cgm_node_start(cfg, &node));
    FAIL_ON_ERR(cgm_node_wait_ready(node, 5000));
    FAIL_ON_ERR(cgm_node_free(node));
    CHECK(access(file, R_OK) == 0);
  }
  /* A damaged state file (a byte flipped in each of its two slots; one
     alone is taken for a write cut short): refused, named, left as it is. */
  f = fopen(file, "r+b");
  CHECK(f != NULL);
  CHECK(fseek(f, 0, SEEK_END) == 0);
  long half = ftell(f) / 2;
  CHECK(half > 40);
  for (long at = 40; at < 2 * half; at += half) {
    CHECK(fseek(f, at, SEEK_SET) == 0);
    int byte = fgetc(f);
    CHECK(byte != EOF);
    CHECK(fseek(f, at, SEEK_SET) == 0);
    CHECK(fputc(byte ^ 0x5a, f) != EOF);
  }
  CHECK(fclose(f) == 0);
  node = NULL;
  FAIL_ON_SUCCESS(cgm_node_start(cfg, &node), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("checksum mismatch");
  CHECK_ERROR_MENTIONS(file);
  CHECK(node == NULL);
  /* NULL: no state on disk. */
  FAIL_ON_ERR(cgm_config_set_state_dir(cfg, NULL));
  FAIL_ON_ERR(cgm_node_start(cfg, &node));
  FAIL_ON_ERR(cgm_node_free(node));
  CHECK(unlink(file) == 0);
  CHECK(rmdir(dir) == 0);
  cgm_config_free(cfg);
  PASS();
}
