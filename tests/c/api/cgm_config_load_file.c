/* cgm_config_load_file: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_config *cfg = NULL;
  cgm_node *node = NULL;
  uint64_t v = 0;
  char path[] = "/tmp/cgm-config-XXXXXX";
  unsigned port = test_free_port();
  int fd = mkstemp(path);
  FILE *f;
  CHECK(fd >= 0);
  close(fd);
  FAIL_ON_SUCCESS(cgm_config_load_file(NULL, &cfg), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_load_file(path, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_load_file("/nonexistent/node.toml", &cfg), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("cannot read");
  FAIL_ON_SUCCESS(cgm_config_load_file(NOT_UTF8, &cfg), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("not valid UTF-8");
  /* An unknown key is named, with its line. */
  f = fopen(path, "w");
  CHECK(f != NULL);
  fprintf(f, "cluster = \"test\"\nnode_id = 1\ninsecure = true\ncolour = 3\n"
             "[[nodes]]\nid = 1\naddr = \"127.0.0.1:%u\"\n", port);
  fclose(f);
  FAIL_ON_SUCCESS(cgm_config_load_file(path, &cfg), CGM_RESULT_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("colour");
  CHECK_ERROR_MENTIONS(":4");
  CHECK(cfg == NULL);
  f = fopen(path, "w");
  CHECK(f != NULL);
  fprintf(f, "cluster = \"test\"\nnode_id = 1\ninsecure = true\n"
             "[[nodes]]\nid = 1\naddr = \"127.0.0.1:%u\"\n"
             "[params]\nsend-window-size = 32\n", port);
  fclose(f);
  FAIL_ON_ERR(cgm_config_load_file(path, &cfg));
  FAIL_ON_ERR(cgm_node_start(cfg, &node));
  FAIL_ON_ERR(cgm_get_param(node, CGM_PARAM_SEND_WINDOW_SIZE, &v));
  CHECK(v == 32);
  FAIL_ON_ERR(cgm_node_free(node));
  cgm_config_free(cfg);
  unlink(path);
  PASS();
}
