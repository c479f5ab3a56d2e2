/* cgm_core_poll_transmit: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_sim s;
  uint32_t to = 9;
  uint64_t src = 9;
  size_t len = 9, first = 0, none = 0;
  uint8_t small[4];
  int tries = 0;
  cgm_result r;
  test_sim_init(&s, 3);
  FAIL_ON_SUCCESS(cgm_core_poll_transmit(NULL, &to, &src, s.buf, sizeof s.buf, &len), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_poll_transmit(s.core[0], NULL, &src, s.buf, sizeof s.buf, &len), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_poll_transmit(s.core[0], &to, NULL, s.buf, sizeof s.buf, &len), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_poll_transmit(s.core[0], &to, &src, NULL, sizeof s.buf, &len), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_core_poll_transmit(s.core[0], &to, &src, s.buf, sizeof s.buf, NULL), CGM_RESULT_NULL_ARGUMENT);
  /* Fire timers until core 1 has something to send; too small a buffer is refused. */
  for (;;) {
    bool has = false;
    uint64_t d = 0;
    FAIL_ON_ERR(cgm_core_poll_timeout(s.core[0], &has, &d));
    CHECK(has && tries++ < 100);
    FAIL_ON_ERR(cgm_core_handle_timeout(s.core[0], d));
    r = cgm_core_poll_transmit(s.core[0], &to, &src, small, sizeof small, &len);
    if (r == CGM_RESULT_INVALID_ARGUMENT)
      break;
    FAIL_ON_ERR(r);
    CHECK(len == 0);
    len = 9;
  }
  CHECK_ERROR_MENTIONS("too small");
  CHECK(len == 9); /* not written on failure */
  /* The datagram stayed pending: a big enough buffer gets it. */
  FAIL_ON_ERR(cgm_core_poll_transmit(s.core[0], &to, &src, s.buf, sizeof s.buf, &first));
  CHECK(first > sizeof small && to >= 2 && to <= 3 && src == 0);
  do
    FAIL_ON_ERR(cgm_core_poll_transmit(s.core[0], &to, &src, s.buf, sizeof s.buf, &none));
  while (none != 0);
  CHECK(to == 0 && src == 0); /* nothing pending */
  test_sim_free(&s);
  PASS();
}
