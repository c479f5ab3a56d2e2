/* cgm_phase_name: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  CHECK(strcmp(cgm_phase_name(CGM_PHASE_IDLE), "idle") == 0);
  CHECK(strcmp(cgm_phase_name(CGM_PHASE_WAITING_ACKS), "waiting-acks") == 0);
  CHECK(strcmp(cgm_phase_name(CGM_PHASE_WAITING_LOCAL), "waiting-local") == 0);
  CHECK(strcmp(cgm_phase_name(CGM_PHASE_NO_QUORUM), "no-quorum") == 0);
  CHECK(strcmp(cgm_phase_name(CGM_PHASE_VIEW_CHANGE), "view-change") == 0);
  CHECK(strcmp(cgm_phase_name(CGM_PHASE_LEFT), "left") == 0);
  CHECK(cgm_phase_name(CGM_PHASE_LEFT + 1) == NULL);
  CHECK(cgm_phase_name(UINT32_MAX) == NULL);
  PASS();
}
