// Raw libpq baseline for ProjectionBench: the projection's recorded calls, replayed with nothing computed.
#include "CProjectionRaw.h"

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

void *raw_projection_connect(const char *conninfo, char *error, size_t error_size) {
    const char *keys[] = {"dbname", "application_name", "options", NULL};
    const char *values[] = {conninfo, "motcua-bench-raw-projection",
                            "-c DateStyle=ISO -c TimeZone=UTC -c extra_float_digits=3 -c plan_cache_mode=force_custom_plan",
                            NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        snprintf(error, error_size, "connect: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

int raw_projection_backend_pid(void *connection) { return PQbackendPID((PGconn *)connection); }

void raw_projection_finish(void *connection) { PQfinish((PGconn *)connection); }

static int result_ok(PGresult *res) {
    ExecStatusType status = PQresultStatus(res);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

long long raw_projection_replay(void *connection, const raw_call *calls, long long call_count,
                                const char *const *sqls, int sql_count, const unsigned int *types,
                                const char *const *values, const unsigned char *data, double *seconds, char *error,
                                size_t error_size) {
    PGconn *conn = (PGconn *)connection;
    *seconds = 0;
    char *prepared = calloc((size_t)(sql_count > 0 ? sql_count : 1), 1);
    if (!prepared) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    long long made = 0;
    int ok = 1;
    double start = now_seconds();
    for (long long i = 0; i < call_count && ok; i++) {
        const raw_call *call = &calls[i];
        const char *sql = sqls[call->statement];
        const unsigned int *call_types = call->param_count ? types + call->param_start : NULL;
        const char *const *call_values = call->param_count ? values + call->param_start : NULL;
        PGresult *res = NULL;
        char name[32];
        switch (call->kind) {
        case RAW_CALL_SCRIPT:
            res = PQexec(conn, sql);
            ok = result_ok(res);
            break;
        case RAW_CALL_PREPARED:
            snprintf(name, sizeof name, "raw_s%d", call->statement);
            if (!prepared[call->statement]) {
                res = PQprepare(conn, name, sql, call->param_count, call_types);
                ok = result_ok(res);
                if (!ok) break;
                PQclear(res);
                prepared[call->statement] = 1;
            }
            res = PQexecPrepared(conn, name, call->param_count, call_values, NULL, NULL, 0);
            ok = result_ok(res);
            break;
        case RAW_CALL_PARAMS:
            res = PQexecParams(conn, sql, call->param_count, call_types, call_values, NULL, NULL, 0);
            ok = result_ok(res);
            break;
        case RAW_CALL_COPY:
            res = PQexec(conn, sql);
            if (PQresultStatus(res) != PGRES_COPY_IN) {
                ok = 0;
                break;
            }
            PQclear(res);
            res = NULL;
            // The data as the projection sent it, in chunks of at most 64 KiB as its writer does.
            for (long long from = call->data_start; from < call->data_end && ok; from += 1 << 16) {
                long long to = from + (1 << 16) < call->data_end ? from + (1 << 16) : call->data_end;
                ok = PQputCopyData(conn, (const char *)data + from, (int)(to - from)) == 1;
            }
            if (!ok || PQputCopyEnd(conn, NULL) != 1) {
                ok = 0;
                break;
            }
            res = PQgetResult(conn);
            ok = result_ok(res);
            break;
        default:
            snprintf(error, error_size, "call %lld: unknown kind %d", i, call->kind);
            free(prepared);
            return -1;
        }
        if (!ok) {
            const char *message = res ? PQresultErrorMessage(res) : "";
            snprintf(error, error_size, "call %lld (kind %d): %s%s", i, call->kind, message,
                     *message ? "" : PQerrorMessage(conn));
        }
        if (res) PQclear(res);
        // A COPY's result is followed by a NULL; anything else left over is drained.
        while ((res = PQgetResult(conn)) != NULL) PQclear(res);
        if (ok) made++;
    }
    *seconds = now_seconds() - start;
    free(prepared);
    return ok ? made : -1;
}
