#ifndef MOTCUA_CRDKAFKA_SHIM_H
#define MOTCUA_CRDKAFKA_SHIM_H
// rdkafka_mock.h stops with #error unless rdkafka.h comes first.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
