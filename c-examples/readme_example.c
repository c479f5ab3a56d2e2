/* The C API example of the README, compiled and run by tests/c/run.sh. */
#include <cgm.h>
#include <stdio.h>

int main(int argc, char **argv) {
    const char *addr = argc > 1 ? argv[1] : "127.0.0.1:7401";
    cgm_config *cfg = NULL;
    cgm_node *node = NULL;
    cgm_status *status = NULL;
    cgm_change_outcome *outcome = NULL;
    uint8_t key[CGM_KEY_LEN];
    uint32_t phase = 0;
    char err[256];

    cgm_key_generate(key); /* a real cluster shares one key file: cgm_config_set_key_file */
    if (cgm_config_new(1, "demo", &cfg) != CGM_RESULT_OK ||
        cgm_config_add_node(cfg, 1, addr) != CGM_RESULT_OK ||
        cgm_config_set_key(cfg, key, sizeof key) != CGM_RESULT_OK ||
        cgm_node_start(cfg, &node) != CGM_RESULT_OK ||
        cgm_node_wait_ready(node, 5000) != CGM_RESULT_OK) {
        cgm_last_error(err, sizeof err);
        fprintf(stderr, "cgm: %s\n", err);
        return 1;
    }
    cgm_config_free(cfg); /* the node keeps its own copy */

    /* Retune the heartbeat on every member; the outcome is the same everywhere. */
    cgm_result r = cgm_propose_param(node, CGM_PARAM_HEARTBEAT_INTERVAL, 500, 5000, &outcome);
    printf("heartbeat-interval = 500ms: %s\n", cgm_result_str(r));
    cgm_change_outcome_free(outcome); /* NULL is fine */

    /* Ask member 1 (here: ourselves) where it is. */
    if (cgm_query_status(node, 1, 1000, &status) == CGM_RESULT_OK) {
        cgm_status_phase(status, &phase);
        printf("member 1 is %s\n", cgm_phase_name(phase));
        cgm_status_free(status);
    }
    cgm_node_free(node); /* leaves the group gracefully */
    return r == CGM_RESULT_OK ? 0 : 1;
}
