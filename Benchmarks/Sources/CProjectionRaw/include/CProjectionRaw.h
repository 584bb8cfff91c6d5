#ifndef MOTCUA_CPROJECTIONRAW_H
#define MOTCUA_CPROJECTIONRAW_H
// The raw libpq baseline of ProjectionBench: the very calls the status projection made on its connection (recorded
// by the Postgres module's PostgresRecorder), sent again the way a C programmer would, with nothing computed.
#include <stddef.h>

enum {
    RAW_CALL_SCRIPT = 0,    // PQexec(sql)
    RAW_CALL_PREPARED = 1,  // PQexecPrepared of statement `statement` (prepared with PQprepare on its first use)
    RAW_CALL_PARAMS = 2,    // PQexecParams(sql, types, values)
    RAW_CALL_COPY = 3,      // PQexec(sql) → COPY IN; PQputCopyData(data[data_start, data_end)); PQputCopyEnd
};

/// One call. `statement`: index into `sqls` (for RAW_CALL_PREPARED, also the prepared statement's identity);
/// parameters [param_start, param_start + param_count) of `types` / `values` (NULL value: SQL null); COPY data
/// [data_start, data_end) of `data`.
typedef struct {
    int kind;
    int statement;
    int param_start;
    int param_count;
    long long data_start;
    long long data_end;
} raw_call;

/// Connects with `conninfo` and the session settings of the Postgres module (DateStyle ISO, TimeZone UTC,
/// extra_float_digits 3, plan_cache_mode force_custom_plan). NULL with a message in `error` if that fails.
void *raw_projection_connect(const char *conninfo, char *error, size_t error_size);
/// The server process of the connection (to read its CPU time).
int raw_projection_backend_pid(void *connection);
void raw_projection_finish(void *connection);

/// Sends the calls in order, each waited for and checked (a query must return rows or complete, a COPY must
/// complete). `seconds` is the time from the first call to the end of the last. Returns the number of calls made,
/// or -1 with a message (the failing call's index and the server's error) in `error`.
long long raw_projection_replay(void *connection, const raw_call *calls, long long call_count,
                                const char *const *sqls, int sql_count, const unsigned int *types,
                                const char *const *values, const unsigned char *data, double *seconds, char *error,
                                size_t error_size);

#endif
