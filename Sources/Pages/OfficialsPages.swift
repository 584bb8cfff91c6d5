import Authority
import Foundation
import Hummingbird
import Logging
import Messages
import NIOCore
import Operations
import Postgres
import Store

/// The officials' pages, on a listener of their own (127.0.0.1 by default), apart from the public lookup: the
/// leader page of a department (`/departments/{department}`) and the processing-control slip of a dossier
/// (`/dossiers/{code}/slip`), only to signed-in officials.
///
/// Signing in: the official makes a sign-in assertion with their key (`motcua officials sign-in`, a signed
/// ``SignInAssertion`` that lives 2 minutes) and pastes it into the form of `GET /sign-in`. `POST /sign-in` checks
/// it against the registry at that instant (signature, key valid and not revoked, an official), records its nonce
/// once (a replay is refused; assertions expired an hour ago are deleted as new ones are recorded) and sets an
/// ``OfficialSession`` cookie (HMAC under the server's secret, HttpOnly, SameSite=Strict, at most 12 hours).
/// Sign-ins are limited per client (429 with Retry-After). Every request checks the registry again: a revoked
/// official is out at once.
/// A department's page is for its own officials (403 for others); a slip is for officials of a department the
/// dossier passed through (404 for others, as for a code that does not exist).
public final class OfficialsPages: Sendable {
    private let pages: OperationsPages
    private let workflows: [DepartmentID: DepartmentWorkflow]
    private let catalogue: Catalogue
    private let clock: any MotCuaClock
    private let wallClock: @Sendable () -> Date
    private let secret: SessionSecret
    private let registryCache = OfficialRegistryCache()
    private let logger: Logger
    private let refreshSeconds: Int
    /// Sign-ins per client and minute (``LookupRateLimit``, the public lookup's limiter): 429 with Retry-After
    /// beyond it, before any assertion is verified.
    private let signInLimit: LookupRateLimit
    /// Weeks in the leader page's charts.
    public static let chartWeeks = 8

    /// `pages`: whose database connections to use. `clock`: the services' clock (registry validity, due instants);
    /// `wallClock`: the assertions' and sessions' lifetimes. `signInLimit`: sign-ins per client and minute
    /// (default 10).
    public init(
        pages: OperationsPages, catalogue: Catalogue, workflows: [DepartmentID: DepartmentWorkflow],
        clock: any MotCuaClock, secret: SessionSecret, logger: Logger, refreshSeconds: Int = 60,
        signInLimit: LookupRateLimit = LookupRateLimit(perMinute: 10),
        wallClock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.signInLimit = signInLimit
        self.pages = pages
        self.catalogue = catalogue
        self.workflows = workflows
        self.clock = clock
        self.secret = secret
        self.logger = logger
        self.refreshSeconds = refreshSeconds
        self.wallClock = wallClock
    }

    /// The routes.
    public func register(on router: Router<BasicRequestContext>) {
        router.get("/") { request, _ in await self.home(request) }
        router.get("/sign-in") { _, _ in Self.html(.ok, SignInPage.form(message: nil)) }
        router.post("/sign-in") { request, _ in await self.signIn(request) }
        router.post("/sign-out") { _, _ in self.signOut() }
        router.get("/departments/:department") { request, context in
            await self.department(request, context.parameters.get("department") ?? "")
        }
        router.get("/dossiers/:code/slip") { request, context in
            await self.slip(request, context.parameters.get("code") ?? "")
        }
    }

    /// The officials' listener: its own HTTP application on `host:port`; `portFile` receives the bound port.
    public func application(
        host: String = "127.0.0.1", port: Int, portFile: String? = nil
    ) -> some ApplicationProtocol {
        let router = Router()
        register(on: router)
        let logger = self.logger
        return Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("officials' pages listening", metadata: ["http.port": "\(bound)"])
                if let portFile { try? "\(bound)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
            }, logger: logger)
    }

    // MARK: sign-in

    func signIn(_ request: Request) async -> Response {
        let admitted = signInLimit.admit(
            LookupRateLimit.client(forwardedFor: OperationsPages.header(request, "x-forwarded-for")))
        guard admitted.allowed else {
            logger.notice("sign-in refused", metadata: ["refusal": "rate-limited"])
            var response = Self.html(
                .tooManyRequests,
                SignInPage.form(
                    message: "Too many sign-ins from this address. Try again in \(admitted.retryAfter) seconds."))
            response.headers[.retryAfter] = String(admitted.retryAfter)
            return response
        }
        let text = (try? await request.body.collect(upTo: 16_384)).map { String(buffer: $0) } ?? ""
        var assertion = ""
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if parts.count == 2, parts[0] == "assertion" { assertion = parts[1] }
        }
        let registryInstant = clock.now()
        let now = wallClock()
        let cache = registryCache
        do {
            let registry = try await pages.onDatabase { try cache.current(in: $0) }
            let verified: (principal: Principal, assertion: SignInAssertion)
            switch SignInAssertion.verify(assertion, registry: registry, registryInstant: registryInstant, now: now) {
            case .failure(let refusal):
                logger.notice("sign-in refused", metadata: ["refusal": "\(refusal)"])
                return Self.html(.unauthorized, SignInPage.form(message: refusal.description))
            case .success(let found): verified = found
            }
            let nonce = verified.assertion.nonce
            let official = verified.principal.id
            let expiresAt = verified.assertion.expiresAt
            guard try await pages.onDatabase({
                try SignInStore.recordOnce(nonce: nonce, official: official, expiresAt: expiresAt, in: $0)
            }) else {
                logger.notice("sign-in refused", metadata: ["refusal": "replayed", "official": "\(official)"])
                return Self.html(
                    .unauthorized, SignInPage.form(message: SignInAssertion.Refusal.replayed.description))
            }
            let lifetime = min(OfficialSession.maximumLifetime, max(0, verified.principal.validTo.timeIntervalSince(registryInstant)))
            let session = OfficialSession(
                official: official, department: verified.principal.department,
                expiresAt: now.addingTimeInterval(lifetime))
            logger.info("official signed in", metadata: ["official": "\(official)"])
            var response = Response(
                status: .seeOther,
                headers: [.location: "/departments/\(Self.pathSegment(session.department))", .cacheControl: "no-store"])
            response.setCookie(Cookie(
                name: OfficialSession.cookieName, value: try session.sealed(secret: secret), maxAge: Int(lifetime),
                path: "/", httpOnly: true, sameSite: .strict))
            return response
        } catch {
            return pages.unavailable(error, json: false)
        }
    }

    func signOut() -> Response {
        var response = Response(status: .seeOther, headers: [.location: "/sign-in", .cacheControl: "no-store"])
        response.setCookie(Cookie(
            name: OfficialSession.cookieName, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
        return response
    }

    /// The signed-in official of `request`, checked against the registry now; nil otherwise.
    func official(_ request: Request) async throws -> Principal? {
        guard let value = request.cookies[OfficialSession.cookieName]?.value,
            let session = OfficialSession.open(value, secret: secret, now: wallClock())
        else { return nil }
        let cache = registryCache
        let registry = try await pages.onDatabase { try cache.current(in: $0) }
        let instant = clock.now()
        guard let principal = registry.principals[session.official], principal.role.isOfficial,
            principal.department == session.department, principal.validFrom <= instant, instant <= principal.validTo,
            principal.revokedAt.map({ $0 > instant }) ?? true
        else { return nil }
        return principal
    }

    func home(_ request: Request) async -> Response {
        guard let principal = try? await official(request) else {
            return Response(status: .seeOther, headers: [.location: "/sign-in", .cacheControl: "no-store"])
        }
        return Response(
            status: .seeOther,
            headers: [.location: "/departments/\(Self.pathSegment(principal.department))", .cacheControl: "no-store"])
    }

    // MARK: pages

    func department(_ request: Request, _ id: String) async -> Response {
        do {
            guard let principal = try await official(request) else { return Self.signInFirst() }
            guard principal.department == id else {
                return Self.html(.forbidden, SignInPage.message(
                    title: "Not your department",
                    text: "This page is for the officials of its department; you are signed in as an official of "
                        + "\(principal.department).", link: "/departments/\(Self.pathSegment(principal.department))"))
            }
            let department = DepartmentID(id)
            let now = clock.now()
            let since = now.addingTimeInterval(-Double(Self.chartWeeks) * 7 * 86_400)
            let weeks = Self.chartWeeks
            let calendar = pages.calendar
            let figures = try await pages.onDatabase { db in
                DepartmentPage.Figures(
                    queues: try DepartmentFigures.queues(department: department, now: now, in: db),
                    stageTimes: try DepartmentFigures.stageTimes(
                        department: department, since: since, calendar: calendar, in: db),
                    weeks: try DepartmentFigures.weeks(department: department, now: now, weeks: weeks, in: db))
            }
            return Self.html(.ok, DepartmentPage.html(
                figures, department: department, name: catalogue.department(department)?.name ?? id,
                workflow: workflows[department], official: principal, now: now, refreshSeconds: refreshSeconds))
        } catch {
            return pages.unavailable(error, json: false)
        }
    }

    func slip(_ request: Request, _ code: String) async -> Response {
        do {
            guard let principal = try await official(request) else { return Self.signInFirst() }
            let notFound = Self.html(.notFound, SignInPage.message(
                title: "No slip", text: "No dossier with this code passed through your department.",
                link: "/departments/\(Self.pathSegment(principal.department))"))
            guard CitizenLookup.isWellFormed(code) else { return notFound }
            let lines = try await pages.onDatabase { db -> [ProcessingSlip.Line]? in
                guard let found = try DossierStatusRead.find(.code(code), in: db) else { return nil }
                return try ProcessingSlip.lines(of: found.id, in: db)
            }
            // Only officials of a department the dossier passed through see its slip.
            guard let lines, lines.contains(where: { $0.department == principal.department }) else { return notFound }
            return Self.html(.ok, SlipPage.html(lines, code: code, workflows: workflows, now: clock.now()))
        } catch {
            return pages.unavailable(error, json: false)
        }
    }

    static func signInFirst() -> Response {
        html(.unauthorized, SignInPage.message(
            title: "Sign in first", text: "These pages are for signed-in officials.", link: "/sign-in"))
    }

    /// A department id as a path segment (ids are lowercase letters, digits and hyphens; anything else is dropped).
    static func pathSegment(_ id: String) -> String {
        String(id.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" })
    }

    static func html(_ status: HTTPResponse.Status, _ html: String) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .init("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
                .init("X-Frame-Options")!: "DENY", .init("Referrer-Policy")!: "no-referrer",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}
