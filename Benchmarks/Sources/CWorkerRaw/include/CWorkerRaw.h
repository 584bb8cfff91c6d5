#ifndef MOTCUA_CWORKERRAW_H
#define MOTCUA_CWORKERRAW_H
// The raw libpq baseline of WorkerBench: the worker's batch transactions (its provenance lookup, then COPY of every
// row it wrote — decisions, stages, stage hand-overs, outbox —, advance the stored offsets, COMMIT) written the way a
// C programmer would, with PQputCopyData and a prepared UPDATE.
#include <stddef.h>

/// One partition's offset move in a batch: the stored next offset goes from `expected` to `next`.
typedef struct {
    int partition;
    long long expected;
    long long next;
} raw_offset_move;

/// One table the replay copies into: its COPY statement (binary format) and its rows, already encoded as binary COPY
/// tuples back to back, row i ending at byte `ends[i]` (starting where row i - 1 ends, or at 0); the replay adds the
/// header and trailer.
typedef struct {
    const char *copy;
    const unsigned char *rows;
    const long long *ends;
} raw_table;

/// Connects with `conninfo` (URL or key=value), then for every batch b: BEGIN; `lookups[b]` (or none: NULL), the
/// worker's provenance lookup, whose rows are read and dropped; for each table t in order, COPY of its rows
/// [ranges[(b * table_count + t) * 2], ranges[(b * table_count + t) * 2 + 1]) (none: no COPY); a prepared fenced
/// UPDATE of consumer_offsets (group, topic, partition, expected → next) per move [move_ranges[b * 2],
/// move_ranges[b * 2 + 1]), failing if a row does not match; COMMIT. `seconds` is the time from the first BEGIN to
/// the last COMMIT. Returns the rows copied into the first table (the decisions), or -1 with a message in `error`.
long long raw_worker_replay(const char *conninfo, const char *group, const char *topic, const raw_table *tables,
                            int table_count, const long long *ranges, int batch_count, const raw_offset_move *moves,
                            const int *move_ranges, char *const *lookups, double *seconds, char *error,
                            size_t error_size);

#endif
