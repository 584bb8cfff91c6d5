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

// The binary COPY header (signature, flags, header extension length) and trailer.
static const char copy_header[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (char)0xFF, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0};
static const char copy_trailer[2] = {(char)0xFF, (char)0xFF};
static int command(PGconn *conn, const char *sql, char *error, size_t error_size) {
    PGresult *res = PQexec(conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok) snprintf(error, error_size, "%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    return ok;
}

static int copy_rows(PGconn *conn, const char *statement, const unsigned char *data, const long long *ends,
                     long long start, long long end, char *error, size_t error_size) {
    if (end <= start) return 1;
    PGresult *res = PQexec(conn, statement);
    if (PQresultStatus(res) != PGRES_COPY_IN) {
        snprintf(error, error_size, "COPY start: %s", PQerrorMessage(conn));
        PQclear(res);
        return 0;
    }
    PQclear(res);
    // The rows are already in binary COPY form: send them in chunks of about CHUNK bytes, as they lie.
    int ok = PQputCopyData(conn, copy_header, sizeof copy_header) == 1;
    long long from = start == 0 ? 0 : ends[start - 1];
    for (long long r = start; r < end && ok; r++) {
        long long to = ends[r];
        if (to - from >= CHUNK || r == end - 1) {
            ok = PQputCopyData(conn, (const char *)data + from, (int)(to - from)) == 1;
            from = to;
        }
    }
    if (ok) ok = PQputCopyData(conn, copy_trailer, sizeof copy_trailer) == 1;
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

long long raw_worker_replay(const char *conninfo, const char *group, const char *topic, const raw_table *tables,
                            int table_count, const long long *ranges, int batch_count, const raw_offset_move *moves,
                            const int *move_ranges, char *const *lookups, double *seconds, char *error,
                            size_t error_size) {
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

    long long rows = 0;
    int ok = 1;
    double start = now_seconds();
    for (int i = 0; i < batch_count && ok; i++) {
        ok = command(conn, "BEGIN", error, error_size);
        if (ok && lookups && lookups[i]) {
            res = PQexec(conn, lookups[i]);
            if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                snprintf(error, error_size, "provenance lookup: %s", PQerrorMessage(conn));
                ok = 0;
            }
            PQclear(res);
        }
        for (int t = 0; t < table_count && ok; t++) {
            const long long *range = &ranges[((long long)i * table_count + t) * 2];
            ok = copy_rows(conn, tables[t].copy, tables[t].rows, tables[t].ends, range[0], range[1], error,
                           error_size);
        }
        for (int m = move_ranges[i * 2]; m < move_ranges[i * 2 + 1] && ok; m++) {
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
        if (ok && table_count > 0) {
            const long long *range = &ranges[(long long)i * table_count * 2];
            rows += range[1] - range[0];
        }
    }
    *seconds = now_seconds() - start;
    PQfinish(conn);
    return ok ? rows : -1;
}
