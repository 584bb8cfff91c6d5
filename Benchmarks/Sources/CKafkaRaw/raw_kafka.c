// Raw librdkafka baseline for KafkaBench: the loops a C programmer would write, with the Swift module's settings.
#include "CKafkaRaw.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double raw_thread_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    long long delivered;
    long long failed;
} delivery_counts;

static void delivery_report(rd_kafka_t *rk, const rd_kafka_message_t *message, void *opaque) {
    (void)rk;
    delivery_counts *counts = opaque;
    if (message->err) counts->failed++; else counts->delivered++;
}

static rd_kafka_conf_t *make_conf(const char *const *properties, char *error, size_t error_size) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (const char *const *p = properties; p[0] != NULL && p[1] != NULL; p += 2) {
        if (rd_kafka_conf_set(conf, p[0], p[1], error, error_size) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    return conf;
}

int raw_kafka_produce(const char *const *properties, const char *topic, const uint8_t *keys, size_t key_length,
                      const uint8_t *values, size_t value_length, long long count, int poll_every,
                      raw_kafka_result *result, char *error, size_t error_size) {
    memset(result, 0, sizeof *result);
    delivery_counts counts = {0, 0};
    rd_kafka_conf_t *conf = make_conf(properties, error, error_size);
    if (!conf) return -1;
    rd_kafka_conf_set_dr_msg_cb(conf, delivery_report);
    rd_kafka_conf_set_opaque(conf, &counts);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, error_size);
    if (!rk) { rd_kafka_conf_destroy(conf); return -1; }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (poll_every < 1) poll_every = 1;

    double cpu = raw_thread_cpu_seconds();
    double start = now_seconds();
    for (long long i = 0; i < count; i++) {
        for (;;) {
            if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                 (void *)(values + (size_t)i * value_length), value_length,
                                 keys + (size_t)i * key_length, key_length, NULL) == 0) break;
            rd_kafka_resp_err_t err = rd_kafka_last_error();
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                snprintf(error, error_size, "produce: %s", rd_kafka_err2str(err));
                rd_kafka_topic_destroy(rkt);
                rd_kafka_destroy(rk);
                return -1;
            }
            rd_kafka_poll(rk, 1);
        }
        if (i % poll_every == 0) rd_kafka_poll(rk, 0);
    }
    rd_kafka_resp_err_t err = rd_kafka_flush(rk, 60000);
    result->seconds = now_seconds() - start;
    result->cpu_seconds = raw_thread_cpu_seconds() - cpu;
    result->messages = counts.delivered;
    result->failed = counts.failed;
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    if (err) { snprintf(error, error_size, "flush: %s", rd_kafka_err2str(err)); return -1; }
    return 0;
}

void *raw_kafka_consumer_new(const char *const *properties, char *error, size_t error_size) {
    rd_kafka_conf_t *conf = make_conf(properties, error, error_size);
    if (!conf) return NULL;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, error_size);
    if (!rk) { rd_kafka_conf_destroy(conf); return NULL; }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

static rd_kafka_topic_partition_list_t *partition_list(const char *topic, int partition_count, const int64_t *offsets) {
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partition_count > 0 ? partition_count : 1);
    for (int p = 0; p < partition_count; p++) {
        rd_kafka_topic_partition_t *element = rd_kafka_topic_partition_list_add(list, topic, p);
        if (offsets) element->offset = offsets[p];
    }
    return list;
}

int raw_kafka_consumer_assign(void *consumer, const char *topic, int partition_count, const int64_t *start_offsets,
                              char *error, size_t error_size) {
    rd_kafka_topic_partition_list_t *list = partition_list(topic, partition_count, start_offsets);
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err) { snprintf(error, error_size, "assign: %s", rd_kafka_err2str(err)); return -1; }
    return 0;
}

long long raw_kafka_consumer_idle(void *consumer, int milliseconds) {
    long long received = 0;
    double deadline = now_seconds() + milliseconds / 1000.0;
    while (now_seconds() < deadline) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(consumer, 50);
        if (!message) continue;
        if (!message->err) received++;
        rd_kafka_message_destroy(message);
    }
    return received;
}

int raw_kafka_consume(void *consumer, long long expected, int timeout_ms, int read_headers, raw_kafka_result *result,
                      char *error, size_t error_size) {
    memset(result, 0, sizeof *result);
    rd_kafka_t *rk = consumer;
    int status = 0;
    unsigned long long checksum = 0;
    long long received = 0;
    double cpu = raw_thread_cpu_seconds();
    double start = now_seconds();
    double first = -1;
    double deadline = start + timeout_ms / 1000.0;
    while (status == 0 && received < expected) {
        rd_kafka_message_t *message = rd_kafka_consumer_poll(rk, 100);
        if (!message) {
            if (now_seconds() > deadline) {
                snprintf(error, error_size, "timeout: %lld of %lld messages", received, expected);
                status = -1;
            }
            continue;
        }
        if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (received == 0) first = now_seconds();
            received++;
            checksum += message->len + (message->len > 0 ? ((const uint8_t *)message->payload)[0] : 0)
                        + message->key_len;
            if (read_headers) {
                rd_kafka_headers_t *headers = NULL;
                if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers) {
                    const char *name;
                    const void *value;
                    size_t size;
                    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == 0; i++) {
                        checksum += size;
                    }
                }
                rd_kafka_timestamp_type_t type;
                checksum += rd_kafka_message_timestamp(message, &type) == 0 ? 1 : 0;
            }
        } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            snprintf(error, error_size, "consume: %s", rd_kafka_message_errstr(message));
            status = -1;
        }
        rd_kafka_message_destroy(message);
    }
    result->seconds = now_seconds() - start;
    result->cpu_seconds = raw_thread_cpu_seconds() - cpu;
    result->first_seconds = first < 0 ? -1 : first - start;
    result->messages = received;
    result->checksum = checksum;
    return status;
}

void raw_kafka_consumer_destroy(void *consumer) {
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
}

const char *raw_kafka_version(void) { return rd_kafka_version_str(); }
