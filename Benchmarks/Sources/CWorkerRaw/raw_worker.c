// Raw libpq baseline for WorkerBench: the worker's transactions, as the loop a C programmer would write.
#include "CWorkerRaw.h"

// Debian keeps libpq-fe.h under /usr/include/postgresql.
#include <postgresql/libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum { CHUNK = 1 << 16 };

typedef struct {
    PGconn *conn;
    char *data;
    size_t length;
    size_t capacity;
    int failed;
} copy_buffer;

static void reserve(copy_buffer *b, size_t extra) {
    if (b->length + extra <= b->capacity) return;
    while (b->length + extra > b->capacity) b->capacity *= 2;
    b->data = realloc(b->data, b->capacity);
}

static void flush_buffer(copy_buffer *b) {
    if (b->length == 0 || b->failed) return;
    if (PQputCopyData(b->conn, b->data, (int)b->length) != 1) b->failed = 1;
    b->length = 0;
}

static void append_escaped(copy_buffer *b, const char *text) {
    size_t n = strlen(text);
    reserve(b, 2 * n);
    char *out = b->data + b->length;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        switch (c) {
        case '\\': *out++ = '\\'; *out++ = '\\'; break;
        case '\t': *out++ = '\\'; *out++ = 't'; break;
        case '\n': *out++ = '\\'; *out++ = 'n'; break;
        case '\r': *out++ = '\\'; *out++ = 'r'; break;
        default: *out++ = c;
        }
    }
    b->length = (size_t)(out - b->data);
}

static int command(PGconn *conn, const char *sql, char *error, size_t error_size) {
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) snprintf(error, error_size, "%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    return ok;
}

static int copy_rows(PGconn *conn, copy_buffer *b, const char *statement, const char *const *fields, int columns,
                     long long start, long long end, char *error, size_t error_size) {
    if (end <= start) return 1;
    PGresult *res = PQexec(conn, statement);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        snprintf(error, error_size, "COPY start: %s", PQerrorMessage(conn));
        PQclear(res);
        return 0;
    }
    PQclear(res);
    b->failed = 0;
    b->length = 0;
    for (long long r = start; r < end && !b->failed; r++) {
        const char *const *row = fields + r * columns;
        for (int c = 0; c < columns; c++) {
            if (c > 0) { reserve(b, 1); b->data[b->length++] = '\t'; }
            if (row[c]) append_escaped(b, row[c]);
            else { reserve(b, 2); b->data[b->length++] = '\\'; b->data[b->length++] = 'N'; }
        }
        reserve(b, 1);
        b->data[b->length++] = '\n';
        if (b->length >= CHUNK) flush_buffer(b);
    }
    flush_buffer(b);
    int ok = !b->failed;
    if (!ok) {
        snprintf(error, error_size, "COPY data: %s", PQerrorMessage(conn));
        PQputCopyEnd(conn, "aborted by client");
    } else if (PQputCopyEnd(conn, NULL) != 1) {
        snprintf(error, error_size, "COPY end: %s", PQerrorMessage(conn));
        ok = 0;
    }
    while ((res = PQgetResult(conn)) != NULL) {
        if (ok && PQresultStatus(res) != PGRES_COMMAND_OK) {
            snprintf(error, error_size, "COPY: %s", PQresultErrorMessage(res));
            ok = 0;
        }
        PQclear(res);
    }
    return ok;
}

long long raw_worker_replay(const char *conninfo, const char *group, const char *topic,
                            const char *decision_copy, const char *const *decision_fields, int decision_columns,
                            const char *outbox_copy, const char *const *outbox_fields, int outbox_columns,
                            const raw_batch *batches, int batch_count, const raw_offset_move *moves,
                            double *seconds, char *error, size_t error_size) {
    *seconds = 0;
    const char *keys[] = {"dbname", "application_name", "options", NULL};
    const char *values[] = {conninfo, "motcua-bench-raw-worker", "-c DateStyle=ISO -c TimeZone=UTC", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(error, error_size, "connect: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return -1;
    }
    PGresult *res = PQprepare(conn, "advance",
                              "UPDATE consumer_offsets SET next_offset = $5, updated_at = now() "
                              "WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND next_offset = $4",
                              5, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(error, error_size, "prepare: %s", PQerrorMessage(conn));
        PQclear(res);
        PQfinish(conn);
        return -1;
    }
    PQclear(res);

    copy_buffer b = {conn, malloc(2 * CHUNK), 0, 2 * CHUNK, 0};
    long long rows = 0;
    int ok = 1;
    double start = now_seconds();
    for (int i = 0; i < batch_count && ok; i++) {
        const raw_batch *batch = &batches[i];
        ok = command(conn, "BEGIN", error, error_size)
            && copy_rows(conn, &b, decision_copy, decision_fields, decision_columns, batch->decision_start,
                         batch->decision_end, error, error_size)
            && copy_rows(conn, &b, outbox_copy, outbox_fields, outbox_columns, batch->outbox_start,
                         batch->outbox_end, error, error_size);
        for (int m = batch->move_start; m < batch->move_end && ok; m++) {
            char partition[16], expected[32], next[32];
            snprintf(partition, sizeof partition, "%d", moves[m].partition);
            snprintf(expected, sizeof expected, "%lld", moves[m].expected);
            snprintf(next, sizeof next, "%lld", moves[m].next);
            const char *params[] = {group, topic, partition, expected, next};
            res = PQexecPrepared(conn, "advance", 5, params, NULL, NULL, 0);
            if (PQresultStatus(res) != PGRES_COMMAND_OK || strcmp(PQcmdTuples(res), "1") != 0) {
                snprintf(error, error_size, "advance offsets: %s%s", PQerrorMessage(conn),
                         PQresultStatus(res) == PGRES_COMMAND_OK ? "fence did not match" : "");
                ok = 0;
            }
            PQclear(res);
        }
        if (ok) ok = command(conn, "COMMIT", error, error_size);
        if (ok) rows += batch->decision_end - batch->decision_start;
    }
    *seconds = now_seconds() - start;
    free(b.data);
    PQfinish(conn);
    return ok ? rows : -1;
}
