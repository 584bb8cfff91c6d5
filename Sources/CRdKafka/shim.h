#ifndef MOTCUA_CRDKAFKA_SHIM_H
#define MOTCUA_CRDKAFKA_SHIM_H
// rdkafka_mock.h stops with #error unless rdkafka.h comes first.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

// Swift cannot call C variadic functions. rd_kafka_mock_broker_push_request_error_rtts takes (error, rtt_ms) pairs
// as varargs and has no array form in librdkafka 2.0.2: this pushes one pair (call it once per request to affect).
static inline rd_kafka_resp_err_t motcua_mock_broker_push_request_error_rtt(rd_kafka_mock_cluster_t *mcluster,
                                                                           int32_t broker_id, int16_t api_key,
                                                                           rd_kafka_resp_err_t err, int rtt_ms) {
    return rd_kafka_mock_broker_push_request_error_rtts(mcluster, broker_id, api_key, 1, err, rtt_ms);
}
#endif
