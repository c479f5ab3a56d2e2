/* cgm_config_free: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_config *cfg = NULL;
  cgm_config_free(NULL);
  FAIL_ON_ERR(cgm_config_new(1, "prod", &cfg));
  FAIL_ON_ERR(cgm_config_add_node(cfg, 1, "127.0.0.1:7401"));
  cgm_config_free(cfg);
  PASS();
}
