import BenchSupport
import Foundation
import Postgres

/// Where a worker round's PostgreSQL time goes (`--statements`, a diagnosis): pg_stat_statements over the round
/// (every statement, those run inside functions and triggers too: `pg_stat_statements.track = all`), and the rows
/// written per table (pg_stat_user_tables), each per dossier. Needs `shared_preload_libraries = pg_stat_statements`
/// on the cluster; the figures are wall time inside the server (execution + planning), not CPU.
struct StatementStatistics {
    /// Rows inserted, updated (HOT among them) and deleted per table, as the statistics collector had them.
    struct TableCounts {
        var inserted: [String: Int64] = [:]
        var updated: [String: Int64] = [:]
        var hot: [String: Int64] = [:]
        var indexes: [String: Int64] = [:]
    }

    /// Creates the extension in the benchmark's database (the owner runs this), or fails saying what is missing.
    static func install(_ connection: PostgresConnection) throws {
        let loaded = try connection.query(
            "SELECT current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%' AS ok"
        )[0].decode(Bool.self, "ok")
        guard loaded else {
            fail(
                "--statements needs shared_preload_libraries = 'pg_stat_statements' (and pg_stat_statements.track = all) "
                    + "on the cluster: add them to .dev/pg/data/postgresql.auto.conf and restart it")
        }
        try connection.executeScript("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    }

    static func reset(_ connection: PostgresConnection) throws -> TableCounts {
        _ = try connection.query("SELECT pg_stat_statements_reset() IS NULL AS reset")
        return try tables(connection)
    }

    static func tables(_ connection: PostgresConnection) throws -> TableCounts {
        try connection.executeScript("SELECT pg_stat_clear_snapshot()")
        var counts = TableCounts()
        for row in try connection.query(
            """
            SELECT t.relname::text AS name, t.n_tup_ins AS ins, t.n_tup_upd AS upd, t.n_tup_hot_upd AS hot,
                   (SELECT count(*) FROM pg_index i WHERE i.indrelid = t.relid)::int8 AS indexes
            FROM pg_stat_user_tables t
            """)
        {
            let name = try row.decode(String.self, "name")
            counts.inserted[name] = try row.decode(Int64.self, "ins")
            counts.updated[name] = try row.decode(Int64.self, "upd")
            counts.hot[name] = try row.decode(Int64.self, "hot")
            counts.indexes[name] = try row.decode(Int64.self, "indexes")
        }
        return counts
    }

    /// The round's statements and rows, per dossier, as report lines.
    static func report(
        _ connection: PostgresConnection, before: TableCounts, dossiers: Int, title: String = "the worker round"
    ) throws -> [String] {
        // The backends of the round have exited: their table counters are flushed.
        Thread.sleep(forTimeInterval: 1.0)
        let after = try tables(connection)
        let n = Double(dossiers)
        var lines: [String] = []
        lines.append("statements of \(title) (pg_stat_statements, track = all; time inside PostgreSQL per dossier):")
        lines.append("| µs/dossier (exec + plan) | calls | calls/dossier | rows/call | top level | statement |")
        lines.append("|---:|---:|---:|---:|---|---|")
        var topLevel = 0.0
        for row in try connection.query(
            """
            SELECT s.query, s.calls, s.rows, s.toplevel, s.total_exec_time + s.total_plan_time AS ms
            FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
            WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat_statements%'
              AND s.query NOT LIKE '%pg_stat_clear_snapshot%'
            ORDER BY ms DESC LIMIT 40
            """)
        {
            let ms = try row.decode(Double.self, "ms")
            let calls = try row.decode(Int64.self, "calls")
            let rows = try row.decode(Int64.self, "rows")
            let top = try row.decode(Bool.self, "toplevel")
            if top { topLevel += ms }
            let text = try row.decode(String.self, "query").split(whereSeparator: { $0 == "\n" || $0 == " " })
                .joined(separator: " ")
            let short = text.count > 150 ? String(text.prefix(150)) + "…" : text
            lines.append(
                "| \(format(ms * 1000 / n, 1)) | \(calls) | \(format(Double(calls) / n, 3)) | "
                    + "\(format(calls == 0 ? 0 : Double(rows) / Double(calls), 1)) | \(top ? "yes" : "nested") | "
                    + "`\(short.replacingOccurrences(of: "|", with: "\\|"))` |")
        }
        lines.append("top-level statements of the 40 above: \(format(topLevel * 1000 / n, 1)) µs a dossier")
        lines.append("")
        lines.append("rows written per dossier (pg_stat_user_tables), and each table's indexes:")
        lines.append("| table | inserted | updated (HOT) | indexes |")
        lines.append("|---|---:|---:|---:|")
        for name in after.inserted.keys.sorted() {
            let inserted = (after.inserted[name] ?? 0) - (before.inserted[name] ?? 0)
            let updated = (after.updated[name] ?? 0) - (before.updated[name] ?? 0)
            let hot = (after.hot[name] ?? 0) - (before.hot[name] ?? 0)
            guard inserted > 0 || updated > 0 else { continue }
            lines.append(
                "| \(name) | \(format(Double(inserted) / n, 3)) | \(format(Double(updated) / n, 3)) "
                    + "(\(format(Double(hot) / n, 3))) | \(after.indexes[name] ?? 0) |")
        }
        return lines
    }
}
