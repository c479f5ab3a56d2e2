/* cgm_version: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  char want[64];
  const char *v = cgm_version();
  CHECK(v != NULL);
  snprintf(want, sizeof want, "%d.%d.%d", CGM_VERSION_MAJOR, CGM_VERSION_MINOR, CGM_VERSION_PATCH);
  CHECK(strcmp(v, want) == 0);
  CHECK(cgm_version() == v); /* static */
  PASS();
}
