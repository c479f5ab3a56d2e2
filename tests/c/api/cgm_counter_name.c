/* cgm_counter_name: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  CHECK(strcmp(cgm_counter_name(CGM_COUNTER_AUTH_FAILED), "auth-failed") == 0);
  CHECK(strcmp(cgm_counter_name(CGM_COUNTER_CHANGES_ROLLED_BACK), "changes-rolled-back") == 0);
  CHECK(strcmp(cgm_counter_name(CGM_COUNTER_REFUSED), "refused") == 0);
  for (uint32_t c = 0; c < CGM_COUNTER_COUNT; c++)
    CHECK(cgm_counter_name(c) != NULL);
  CHECK(cgm_counter_name(CGM_COUNTER_COUNT) == NULL);
  PASS();
}
