/* cgm_fd_get: NULL arguments first, then bad arguments, then the good call. */
#include "test.h"

int main(void) {
  test_cluster c;
  int fd = -1;
  struct pollfd p;
  cgm_change_outcome *o = NULL;
  test_cluster_start(&c, 1);
  FAIL_ON_SUCCESS(cgm_fd_get(NULL, &fd), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_fd_get(c.node[0], NULL), CGM_RESULT_NULL_ARGUMENT);
  FAIL_ON_SUCCESS(cgm_fd_get(GARBAGE_NODE, &fd), CGM_RESULT_BAD_HANDLE);
  FAIL_ON_ERR(cgm_fd_get(c.node[0], &fd));
  CHECK(fd >= 0);
  /* Readable while events wait, not once they are dispatched. */
  FAIL_ON_ERR(cgm_dispatch(c.node[0], CGM_DISPATCH_ALL));
  p.fd = fd;
  p.events = POLLIN;
  CHECK(poll(&p, 1, 0) == 0);
  FAIL_ON_ERR(cgm_propose_param(c.node[0], CGM_PARAM_SEND_WINDOW_SIZE, 32, 5000, &o));
  cgm_change_outcome_free(o);
  CHECK(poll(&p, 1, 2000) == 1 && (p.revents & POLLIN));
  FAIL_ON_ERR(cgm_dispatch(c.node[0], CGM_DISPATCH_ALL));
  CHECK(poll(&p, 1, 0) == 0);
  test_cluster_free(&c);
  PASS();
}
