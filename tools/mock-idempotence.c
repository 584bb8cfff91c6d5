// Reproduces the mock cluster's own loss (RELIABILITY.md, "The mock's own loss"): librdkafka 2.0.2's mock, an
// idempotent producer with requests in flight, 5 retriable Produce errors injected now and then: every message is
// reported delivered, some are not in the partitions. Build and run (exit 1 when acknowledged messages are missing):
//   gcc -O1 -o /tmp/mock-idempotence tools/mock-idempotence.c -lrdkafka && /tmp/mock-idempotence 1
// With "max.in.flight" 1, or without the injected errors (brokers taken down only), nothing is lost.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static int acked = 0, failed = 0;
static char ackedSet[200000];
static void dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *o) {
    int id = (int)(intptr_t)m->_private;
    if (m->err) failed++; else { acked++; ackedSet[id] = 1; }
}
int main(int argc, char **argv) {
    int seed = argc > 1 ? atoi(argv[1]) : 1; srand(seed);
    char err[512];
    rd_kafka_conf_t *mc = rd_kafka_conf_new();
    rd_kafka_conf_set(mc, "log_level", "0", err, sizeof err);
    rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mc, err, sizeof err);
    rd_kafka_mock_cluster_t *mcl = rd_kafka_mock_cluster_new(mrk, 3);
    rd_kafka_mock_topic_create(mcl, "t", 4, 3);
    const char *boot = rd_kafka_mock_cluster_bootstraps(mcl);
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", boot, err, sizeof err);
    rd_kafka_conf_set(c, "enable.idempotence", "true", err, sizeof err);
    rd_kafka_conf_set(c, "linger.ms", "5", err, sizeof err);
    rd_kafka_conf_set(c, "log_level", "0", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(c, dr);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    int n = 0;
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < 200; i++) {
            char v[64]; snprintf(v, sizeof v, "%d", n);
            rd_kafka_producev(p, RD_KAFKA_V_TOPIC("t"), RD_KAFKA_V_PARTITION(n % 4), RD_KAFKA_V_VALUE(v, strlen(v)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE((void*)(intptr_t)n), RD_KAFKA_V_END);
            n++;
            if (i == 100) {
                /* no broker down: the injected errors alone lose messages */
                rd_kafka_resp_err_t e[5]; for (int k = 0; k < 5; k++) e[k] = RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS;
                rd_kafka_mock_push_request_errors_array(mcl, 0, 5, e);
                rd_kafka_poll(p, 50 + rand() % 500);
            }
            rd_kafka_poll(p, 0);
            usleep(500);
        }
    }
    rd_kafka_flush(p, 60000);
    /* read back */
    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    rd_kafka_conf_set(cc, "bootstrap.servers", boot, err, sizeof err);
    rd_kafka_conf_set(cc, "group.id", "g", err, sizeof err);
    rd_kafka_conf_set(cc, "log_level", "0", err, sizeof err);
    rd_kafka_t *cons = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    for (int i = 0; i < 4; i++) rd_kafka_topic_partition_list_add(l, "t", i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(cons, l);
    static char seen[200000]; int got = 0, idle = 0;
    while (idle < 30) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 100);
        if (!m) { idle++; continue; }
        if (!m->err) { char v[64]; int len = m->len < 63 ? m->len : 63; memcpy(v, m->payload, len); v[len] = 0; int id = atoi(v); if (!seen[id]) got++; seen[id] = 1; idle = 0; }
        rd_kafka_message_destroy(m);
    }
    int lost = 0; for (int i = 0; i < n; i++) if (ackedSet[i] && !seen[i]) { if (lost < 5) printf("lost %d\n", i); lost++; }
    printf("seed %d produced %d acked %d failed %d distinct-read %d acked-but-missing %d\n", seed, n, acked, failed, got, lost);
    return lost ? 1 : 0;
}
