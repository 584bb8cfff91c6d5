#ifndef MOTCUA_CKAFKARAW_H
#define MOTCUA_CKAFKARAW_H
// The raw librdkafka baseline of KafkaBench: plain C calls, no wrapper, same configuration as the Swift module.
#include <stddef.h>
#include <stdint.h>

typedef struct {
    double seconds;        // produce: first rd_kafka_produce to rd_kafka_flush returning; consume: assign to last message
    double first_seconds;  // consume only: assign to the first message
    double cpu_seconds;    // CPU time of the calling thread over `seconds` (librdkafka's own threads excluded)
    long long messages;    // messages acknowledged (produce) or received (consume)
    long long failed;      // produce: failed delivery reports
    unsigned long long checksum; // consume: sum of value lengths and first bytes, so the payload is touched
} raw_kafka_result;

/// Produces `count` messages to `topic` (partitioner chooses from the key), keys of `key_length` bytes laid out
/// back to back in `keys`, values of `value_length` bytes back to back in `values`. Calls rd_kafka_poll(rk, 0)
/// every `poll_every` messages, then rd_kafka_flush. `properties` is a NULL-terminated list of key, value pairs.
/// Returns 0, or -1 with a message in `error`.
int raw_kafka_produce(const char *const *properties, const char *topic, const uint8_t *keys, size_t key_length,
                      const uint8_t *values, size_t value_length, long long count, int poll_every,
                      raw_kafka_result *result, char *error, size_t error_size);

/// A raw consumer (rd_kafka_new + rd_kafka_poll_set_consumer), or NULL with a message in `error`.
void *raw_kafka_consumer_new(const char *const *properties, char *error, size_t error_size);

/// rd_kafka_assign of `partition_count` partitions of `topic` at `start_offsets` (index = partition), or of none
/// (an empty list: everything unassigned) when `partition_count` is 0; 0 or -1.
int raw_kafka_consumer_assign(void *consumer, const char *topic, int partition_count, const int64_t *start_offsets,
                              char *error, size_t error_size);

/// rd_kafka_consumer_poll for `milliseconds`, expecting nothing (a warm-up: leaders and fetch sessions get
/// established); returns the messages that came anyway.
long long raw_kafka_consumer_idle(void *consumer, int milliseconds);

/// Reads with rd_kafka_consumer_poll(100) until `expected` messages came or `timeout_ms` passed; `seconds` counts
/// from this call to the last message, `first_seconds` to the first. With `read_headers`, also asks each message
/// for its headers (rd_kafka_message_headers, walking them if any) and timestamp, as a consumer that exposes them must.
int raw_kafka_consume(void *consumer, long long expected, int timeout_ms, int read_headers, raw_kafka_result *result,
                      char *error, size_t error_size);

/// rd_kafka_consumer_close + rd_kafka_destroy.
void raw_kafka_consumer_destroy(void *consumer);

/// CPU time used so far by the calling thread, in seconds.
double raw_thread_cpu_seconds(void);

/// librdkafka's version string.
const char *raw_kafka_version(void);

#endif
