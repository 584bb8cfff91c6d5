import Authority
import Dispatch
import Foundation
import Hummingbird
import Kafka
import Logging
import Messages
import NIOCore
import Operations
import Postgres
import Store
import Synchronization

/// The coordinator's pages on its operations endpoint: the citizens' lookup and the status page (`GET /`,
/// `GET /status`) for operators and department heads. JSON with `Accept: application/json` or `?format=json`, HTML
/// otherwise.
///
/// The lookup needs the dossier's code and the applicant's receipt secret, never in the URL: `GET /dossiers/{code}`
/// with the secret in the `X-Receipt-Secret` header, or `POST /dossiers/lookup` with `code` and `secret` in the body
/// (a form or JSON). A wrong code, a wrong secret and a dossier without one all get the same 404; lookups are
/// limited per client (``LookupRateLimit``, 429 beyond it).
///
/// The pages have a small pool of PostgreSQL connections of their own (``poolSize``), each used from its own serial
/// queue (a `PGconn` is not thread-safe, and blocking calls stay off the cooperative thread pool); requests take
/// the connections in turn, and a broken one is replaced on its next request. Kafka watermarks are asked on another
/// queue, so an unreachable broker slows only the lag column.
///
/// The status page's figures are computed at most once per `statusCacheSeconds` (one computation at a time, the
/// requests meanwhile wait for it) and served from memory; the page says as of when.
public final class OperationsPages: @unchecked Sendable {
    // Each slot's `connection` is touched only on the slot's queue, `admin` only on `kafkaQueue`.
    private final class Slot: @unchecked Sendable {
        let queue: DispatchQueue
        var connection: PostgresConnection?
        init(_ index: Int) { queue = DispatchQueue(label: "motcua.pages.database.\(index)") }
    }

    private let slots: [Slot]
    private let nextSlot = Atomic<Int>(0)
    private let kafkaQueue = DispatchQueue(label: "motcua.pages.kafka")
    private var admin: KafkaAdmin?
    private let statusCache: StatusCache
    private let postgres: PostgresConfiguration
    private let kafka: KafkaClientOptions?
    private let catalogue: Catalogue
    /// The working-day calendar (also the officials' pages' stage times in working hours).
    let calendar: WorkingCalendar
    private let logger: Logger
    private let refreshSeconds: Int
    private let kafkaTimeout: Duration

    private let workerDepartments: [DepartmentID]
    private let topics: Topics
    private let lookupLimit: LookupRateLimit

    /// `kafka` nil: the lag column shows `unknown`. `kafkaTimeout` bounds each watermark query of a status page.
    /// `workerDepartments`: the departments that run a worker (their lag is shown). `poolSize`: connections of the
    /// pages (default 4). `statusCacheSeconds`: how long the status page's figures are served from memory (default:
    /// the page's refresh interval; 0 computes them for every request).
    public init(
        postgres: PostgresConfiguration, kafka: KafkaClientOptions?, catalogue: Catalogue, calendar: WorkingCalendar,
        workerDepartments: [DepartmentID],
        topics: Topics = Topics(), logger: Logger, refreshSeconds: Int = 10, kafkaTimeout: Duration = .seconds(2),
        lookupLimit: LookupRateLimit = LookupRateLimit(perMinute: 30), poolSize: Int = 4, statusCacheSeconds: Int? = nil
    ) {
        self.lookupLimit = lookupLimit
        self.slots = (0..<max(1, poolSize)).map(Slot.init)
        self.statusCache = StatusCache(maxAge: .seconds(max(0, statusCacheSeconds ?? refreshSeconds)))
        self.workerDepartments = workerDepartments
        self.topics = topics
        self.refreshSeconds = refreshSeconds
        self.kafkaTimeout = kafkaTimeout
        var configuration = postgres
        configuration.applicationName = "motcua-pages"
        configuration.connectTimeout = .seconds(5)
        configuration.retry.attempts = 1
        self.postgres = configuration
        self.kafka = kafka
        self.catalogue = catalogue
        self.calendar = calendar
        self.logger = logger
    }

    /// Adds the routes to the operations endpoint's router.
    public func register(on router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in await self.status(request) }
        router.get("/status") { request, _ in await self.status(request) }
        router.get("/dossiers/:code") { request, context in
            await self.dossier(
                request, code: context.parameters.get("code") ?? "", secret: Self.header(request, "x-receipt-secret"))
        }
        router.post("/dossiers/lookup") { request, _ in await self.lookup(request) }
    }

    // MARK: handlers

    /// JSON when asked by `?format=json` or an `Accept` that prefers `application/json` to `text/html`.
    static func wantsJSON(_ request: Request) -> Bool {
        switch request.uri.queryParameters.get("format") {
        case "json": return true
        case "html": return false
        default: break
        }
        let accept = request.headers[.accept]?.lowercased() ?? ""
        guard let json = accept.range(of: "application/json") else { return false }
        guard let html = accept.range(of: "text/html") else { return true }
        return json.lowerBound < html.lowerBound
    }

    /// The value of a request header, by its lowercase name.
    static func header(_ request: Request, _ name: String) -> String? {
        request.headers.first { $0.name.canonicalName == name }?.value
    }

    /// `POST /dossiers/lookup`: `code` and `secret` from a form (`application/x-www-form-urlencoded`) or JSON.
    func lookup(_ request: Request) async -> Response {
        let text = (try? await request.body.collect(upTo: 4_096)).map { String(buffer: $0) } ?? ""
        var fields: [String: String] = [:]
        if request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true {
            fields = (try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))) ?? [:]
        } else {
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map {
                    $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
                }
                if parts.count == 2 { fields[parts[0]] = parts[1] }
            }
        }
        return await dossier(request, code: fields["code"] ?? "", secret: fields["secret"])
    }

    func dossier(_ request: Request, code: String, secret: String?) async -> Response {
        let json = Self.wantsJSON(request)
        let admitted = lookupLimit.admit(LookupRateLimit.client(forwardedFor: Self.header(request, "x-forwarded-for")))
        guard admitted.allowed else {
            let message = "Too many lookups from this address. Try again in \(admitted.retryAfter) seconds."
            return Response(
                status: .tooManyRequests,
                headers: [
                    .contentType: json ? "application/json" : "text/html; charset=utf-8", .cacheControl: "no-store",
                    .retryAfter: String(admitted.retryAfter),
                ],
                body: ResponseBody(byteBuffer: json
                    ? ByteBuffer(bytes: CitizenLookup.errorJSON(message))
                    : ByteBuffer(string: CitizenLookup.errorHTML(title: "Too many lookups", message: message))))
        }
        guard CitizenLookup.isWellFormed(code) else {
            let message = "'\(code.prefix(40))' is not a dossier code: expected \(CitizenLookup.codeFormat)"
            return json
                ? Self.response(.badRequest, json: CitizenLookup.errorJSON(message, code: CitizenLookup.codeFormat))
                : Self.response(.badRequest, html: CitizenLookup.errorHTML(title: "Not a dossier code", message: message))
        }
        let catalogue = self.catalogue
        do {
            let found = try await onDatabase {
                try CitizenLookup.find(code: code, secret: secret, in: $0, catalogue: catalogue)
            }
            guard let found else {
                let message = "No dossier matches the code \(code) and this receipt secret. Check both on your receipt."
                return json
                    ? Self.response(.notFound, json: CitizenLookup.errorJSON(message))
                    : Self.response(.notFound, html: CitizenLookup.errorHTML(title: "Dossier not found", message: message))
            }
            return json
                ? Self.response(.ok, json: try CitizenLookup.json(found))
                : Self.response(.ok, html: CitizenLookup.html(found))
        } catch {
            return unavailable(error, json: json)
        }
    }

    func status(_ request: Request) async -> Response {
        let json = Self.wantsJSON(request)
        let catalogue = self.catalogue
        let calendar = self.calendar
        let workerDepartments = self.workerDepartments
        let topics = self.topics
        do {
            let report = try await statusCache.report {
                let watermarks = await self.departmentWatermarks()
                return try await self.onDatabase {
                    try StatusPage.report(
                        database: $0, catalogue: catalogue, calendar: calendar, watermarks: watermarks,
                        workerDepartments: workerDepartments, topics: topics)
                }
            }
            return json
                ? Self.response(.ok, json: try StatusPage.json(report))
                : Self.response(.ok, html: StatusPage.html(report, refreshSeconds: refreshSeconds))
        } catch {
            return unavailable(error, json: json)
        }
    }

    func unavailable(_ error: any Error, json: Bool) -> Response {
        // The error names the query or the connection, never request data.
        logger.warning("operations page failed", metadata: ["error": "\(error)"])
        let message = "The dossier database is not reachable right now. Try again in a minute."
        return json
            ? Self.response(.serviceUnavailable, json: CitizenLookup.errorJSON(message))
            : Self.response(.serviceUnavailable, html: CitizenLookup.errorHTML(title: "Temporarily unavailable", message: message))
    }

    static func response(_ status: HTTPResponse.Status, html: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .vary: "Accept"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static func response(_ status: HTTPResponse.Status, json: [UInt8]) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store", .vary: "Accept"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
    }

    // MARK: database and Kafka

    /// Runs `body` on the next connection of the pool, on its serial queue; connects (again) when it has none or
    /// it broke.
    func onDatabase<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let slot = slots[nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue % slots.count]
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            slot.queue.async {
                continuation.resume(with: Result { try self.withConnection(of: slot, body) })
            }
        }
    }

    private func withConnection<T>(of slot: Slot, _ body: (PostgresConnection) throws -> T) throws -> T {
        for attempt in 0..<2 {
            let database = try slot.connection ?? connect(slot)
            do {
                return try body(database)
            } catch let error as PostgresError where error.isConnectionFailure || !database.isConnected {
                slot.connection = nil
                if attempt == 1 { throw error }
            }
        }
        preconditionFailure("unreachable")
    }

    private func connect(_ slot: Slot) throws -> PostgresConnection {
        let database = try PostgresConnection.connect(postgres, logger: logger)
        // The pages only read: a bug cannot write, and a slow query cannot hold the page for long.
        try database.executeScript("SET default_transaction_read_only = on; SET statement_timeout = '5s'")
        slot.connection = database
        return database
    }

    func departmentWatermarks() async -> TopicWatermarks {
        guard let kafka else { return TopicWatermarks() }
        let timeout = kafkaTimeout
        return await withCheckedContinuation { (continuation: CheckedContinuation<TopicWatermarks, Never>) in
            kafkaQueue.async {
                if self.admin == nil { self.admin = try? KafkaAdmin(options: kafka, logger: self.logger) }
                guard let admin = self.admin else { return continuation.resume(returning: TopicWatermarks()) }
                continuation.resume(returning: TopicWatermarks.query(
                    self.workerDepartments.map(self.topics.department), admin: admin, timeout: timeout))
            }
        }
    }
}
