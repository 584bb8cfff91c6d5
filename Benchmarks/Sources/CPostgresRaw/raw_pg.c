// Raw libpq COPY baseline for PostgresBench: the loop a C programmer would write.
#include "CPostgresRaw.h"

// Debian keeps libpq-fe.h under /usr/include/postgresql; its own includes are relative to it.
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

double raw_pg_thread_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
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

long long raw_pg_copy(const char *conninfo, const char *copy_statement, const char *const *fields,
                      long long row_count, int column_count, double *seconds, double *cpu_seconds,
                      char *error, size_t error_size) {
    *seconds = 0;
    *cpu_seconds = 0;
    // Same session settings as the Swift module, so timestamps are parsed the same way.
    const char *keys[] = {"dbname", "application_name", "options", NULL};
    const char *values[] = {conninfo, "motcua-bench-raw", "-c DateStyle=ISO -c TimeZone=UTC -c extra_float_digits=3", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(error, error_size, "connect: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return -1;
    }
    long long rows = -1;
    double cpu = raw_pg_thread_cpu_seconds();
    double start = now_seconds();
    PGresult *res = PQexec(conn, copy_statement);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        snprintf(error, error_size, "COPY start: %s", PQerrorMessage(conn));
        PQclear(res);
        PQfinish(conn);
        return -1;
    }
    PQclear(res);
    copy_buffer b = {conn, malloc(2 * CHUNK), 0, 2 * CHUNK, 0};
    for (long long r = 0; r < row_count && !b.failed; r++) {
        const char *const *row = fields + r * column_count;
        for (int c = 0; c < column_count; c++) {
            if (c > 0) { reserve(&b, 1); b.data[b.length++] = '\t'; }
            if (row[c]) append_escaped(&b, row[c]);
            else { reserve(&b, 2); b.data[b.length++] = '\\'; b.data[b.length++] = 'N'; }
        }
        reserve(&b, 1);
        b.data[b.length++] = '\n';
        if (b.length >= CHUNK) flush_buffer(&b);
    }
    flush_buffer(&b);
    free(b.data);
    if (b.failed) {
        snprintf(error, error_size, "COPY data: %s", PQerrorMessage(conn));
        PQputCopyEnd(conn, "aborted by client");
    } else if (PQputCopyEnd(conn, NULL) != 1) {
        snprintf(error, error_size, "COPY end: %s", PQerrorMessage(conn));
        b.failed = 1;
    }
    while ((res = PQgetResult(conn)) != NULL) {
        if (!b.failed && PQresultStatus(res) == PGRES_COMMAND_OK) {
            rows = atoll(PQcmdTuples(res));
        } else if (!b.failed) {
            snprintf(error, error_size, "COPY: %s", PQresultErrorMessage(res));
            b.failed = 1;
        }
        PQclear(res);
    }
    *seconds = now_seconds() - start;
    *cpu_seconds = raw_pg_thread_cpu_seconds() - cpu;
    PQfinish(conn);
    return b.failed ? -1 : rows;
}
