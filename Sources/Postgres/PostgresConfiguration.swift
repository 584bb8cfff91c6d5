/// How to reach PostgreSQL.
public struct PostgresConfiguration: Sendable, Hashable {
    /// A libpq connection string or `postgresql://` URL. Empty means "use the standard `PG*` variables".
    public var connectionString: String
    /// Reported in `pg_stat_activity`. Default: `motcua`.
    public var applicationName: String = "motcua"
    /// How long one connection attempt may take. Default: 10 s.
    public var connectTimeout: Duration = .seconds(10)
    /// Retries when connecting or reconnecting. Default: 5 attempts, 100 ms doubling up to 5 s.
    public var retry: RetryPolicy = RetryPolicy()

    public init(connectionString: String) {
        self.connectionString = connectionString
    }

    /// `DATABASE_URL` if set, else the standard `PG*` variables (which libpq reads itself).
    ///
    /// Passwords belong in `PGPASSWORD`, a `PGPASSFILE` or the URL in the environment, never on a command line.
    public static func fromEnvironment(_ environment: [String: String]) -> PostgresConfiguration {
        PostgresConfiguration(connectionString: environment["DATABASE_URL"] ?? "")
    }

    /// Exponential backoff between attempts.
    public struct RetryPolicy: Sendable, Hashable {
        public var attempts: Int = 5
        public var initialDelay: Duration = .milliseconds(100)
        public var maximumDelay: Duration = .seconds(5)
        public init(attempts: Int = 5, initialDelay: Duration = .milliseconds(100), maximumDelay: Duration = .seconds(5)) {
            self.attempts = attempts
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
        }

        /// The delay before attempt `n` (0-based) — doubling, capped.
        public func delay(beforeAttempt n: Int) -> Duration {
            guard n > 0 else { return .zero }
            var delay = initialDelay
            for _ in 1..<n where delay < maximumDelay { delay = delay * 2 }
            return min(delay, maximumDelay)
        }
    }

    func keywords() -> ([String], [String]) {
        var keys = ["dbname", "application_name", "connect_timeout"]
        var values = [connectionString, applicationName, String(max(1, connectTimeout.components.seconds))]
        // Keep server timestamps in a form PostgresTimestamp parses. Statements prepared by the connection's statement
        // cache are planned for their parameters on every run: a generic plan made while a table was small (say, a
        // sequential scan of `dossiers` for `id = ANY($1)` right after it was emptied) stayed in use as the table grew
        // and made reception fall seconds behind in the latency benchmark (BENCHMARKS.md).
        keys.append("options")
        values.append("-c DateStyle=ISO -c TimeZone=UTC -c extra_float_digits=3 -c plan_cache_mode=force_custom_plan")
        return (keys, values)
    }
}
