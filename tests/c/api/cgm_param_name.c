/* cgm_param_name: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  CHECK(strcmp(cgm_param_name(CGM_PARAM_HEARTBEAT_INTERVAL), "heartbeat-interval") == 0);
  CHECK(strcmp(cgm_param_name(CGM_PARAM_SEND_WINDOW_SIZE), "send-window-size") == 0);
  for (uint32_t p = 0; p < CGM_PARAM_COUNT; p++)
    CHECK(cgm_param_name(p) != NULL);
  CHECK(cgm_param_name(CGM_PARAM_COUNT) == NULL);
  CHECK(cgm_param_name(UINT32_MAX) == NULL);
  PASS();
}
