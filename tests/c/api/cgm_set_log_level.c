/* cgm_set_log_level: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  FAIL_ON_SUCCESS(cgm_set_log_level(CGM_LOG_TRACE + 1), CGM_RESULT_INVALID_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_set_log_level(UINT32_MAX), CGM_RESULT_INVALID_ARGUMENT);
  for (uint32_t l = CGM_LOG_OFF; l <= CGM_LOG_TRACE; l++)
    FAIL_ON_ERR(cgm_set_log_level(l));
  FAIL_ON_ERR(cgm_set_log_level(CGM_LOG_WARN));
  /* Records reaching on_log are tested with cgm_node_set_callbacks. */
  PASS();
}
