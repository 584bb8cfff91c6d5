#ifndef MOTCUA_CPOSTGRESRAW_H
#define MOTCUA_CPOSTGRESRAW_H
// The raw libpq baseline of PostgresBench: COPY FROM STDIN with PQputCopyData, no wrapper.
#include <stddef.h>

/// Connects with `conninfo` (a URL or key=value string), runs `copy_statement` (… FROM STDIN, text format) and sends
/// `row_count` rows of `column_count` NUL-terminated fields (`fields[row * column_count + column]`, NULL = SQL
/// NULL), escaping backslash, tab, newline and carriage return, in 64 KiB PQputCopyData chunks. `seconds` is the
/// time from the COPY statement to its final result (the connection is opened before), `cpu_seconds` the calling
/// thread's CPU time over the same span. Returns the rows the server reports, or -1 with a message in `error`.
long long raw_pg_copy(const char *conninfo, const char *copy_statement, const char *const *fields,
                      long long row_count, int column_count, double *seconds, double *cpu_seconds,
                      char *error, size_t error_size);

/// CPU time used so far by the calling thread, in seconds.
double raw_pg_thread_cpu_seconds(void);

#endif
