#ifndef MOTCUA_CWORKERRAW_H
#define MOTCUA_CWORKERRAW_H
// The raw libpq baseline of WorkerBench: the worker's batch transactions (COPY decisions, COPY outbox, advance the
// stored offsets, COMMIT) written the way a C programmer would, with PQputCopyData and a prepared UPDATE.
#include <stddef.h>

/// One partition's offset move in a batch: the stored next offset goes from `expected` to `next`.
typedef struct {
    int partition;
    long long expected;
    long long next;
} raw_offset_move;

/// One transaction: decision rows [decision_start, decision_end), outbox rows [outbox_start, outbox_end) and offset
/// moves [move_start, move_end) of the arrays given to raw_worker_replay.
typedef struct {
    long long decision_start, decision_end;
    long long outbox_start, outbox_end;
    int move_start, move_end;
} raw_batch;

/// Connects with `conninfo` (URL or key=value), then for every batch: BEGIN; COPY `decision_copy` FROM STDIN with its
/// decision rows; COPY `outbox_copy` with its outbox rows; a prepared fenced UPDATE of consumer_offsets
/// (group, topic, partition, expected → next) per move, failing if a row does not match; COMMIT. The COPY statements
/// are in binary format; the rows are already encoded as binary COPY tuples, back to back in `*_rows`, row i ending
/// at byte `*_ends[i]` (starting where row i - 1 ends, or at 0); the replay adds the header and trailer.
/// `lookups` (or NULL): per batch, a query run right after its BEGIN (the worker's provenance lookup), whose rows are
/// read and dropped. `seconds` is the time from the first BEGIN to the last COMMIT. Returns the decision rows copied, or -1 with a
/// message in `error`.
long long raw_worker_replay(const char *conninfo, const char *group, const char *topic,
                            const char *decision_copy, const unsigned char *decision_rows,
                            const long long *decision_ends, const char *outbox_copy, const unsigned char *outbox_rows,
                            const long long *outbox_ends,
                            const raw_batch *batches, int batch_count, const raw_offset_move *moves,
                            char *const *lookups, double *seconds, char *error, size_t error_size);

#endif
