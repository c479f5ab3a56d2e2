/* cgm_config_node_id: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  cgm_config *cfg = NULL;
  uint32_t id = 0;
  FAIL_ON_ERR(cgm_config_new(7, "prod", &cfg));
  FAIL_ON_SUCCESS(cgm_config_node_id(NULL, &id), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_config_node_id(cfg, NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_ERR(cgm_config_node_id(cfg, &id));
  CHECK(id == 7);
  cgm_config_free(cfg);
  PASS();
}
