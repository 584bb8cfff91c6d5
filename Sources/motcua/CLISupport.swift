import ArgumentParser
import Audit
import Authority
import EffectivelyOnce
import Foundation
import Kafka
import Logging
import Messages
import Operations
import Pages
import Postgres
import ServiceCommands
import Services
import Simulation
import Store

/// An error the user can act on: what is wrong, and how to fix it. Printed as `Error: …`, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Connections and settings from the environment, checked with errors that say how to fix them.
enum CLI {
    /// The database connection commands pass around (Store's functions take it), named here so that commands that
    /// only read through Store need not import Postgres.
    typealias Connection = PostgresConnection

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static var quietLogger: Logger {
        var logger = Logger(label: "motcua")
        logger.logLevel = .warning
        return logger
    }

    static func database() throws -> Connection {
        let environment = environment
        guard ["DATABASE_URL", "PGHOST", "PGDATABASE"].contains(where: { !(environment[$0] ?? "").isEmpty }) else {
            throw CLIError(
                "DATABASE_URL is not set: export the PostgreSQL URL (or PGHOST/PGDATABASE); for a local cluster run "
                    + "./tools/dev-up and `set -a; . .dev/env; set +a`")
        }
        do {
            return try PostgresConnection.connect(.fromEnvironment(environment), logger: quietLogger)
        } catch {
            throw CLIError("cannot connect to PostgreSQL (\(error)): check DATABASE_URL and that the server runs")
        }
    }

    static func producer() throws -> KafkaProducer {
        let environment = environment
        guard !(environment["KAFKA_BOOTSTRAP"] ?? environment["KAFKA_BOOTSTRAP_SERVERS"] ?? "").isEmpty else {
            throw CLIError(
                "KAFKA_BOOTSTRAP is not set: export the broker list (host:port,…); ./tools/dev-up writes .dev/env")
        }
        // Idempotent (the configuration's default): a retried send is written once.
        return try KafkaProducer(
            configuration: KafkaProducerConfiguration(client: .fromEnvironment(environment)), logger: quietLogger)
    }

    static func clock() throws -> any MotCuaClock {
        do {
            return try ClockSetting.clock(from: environment)
        } catch {
            throw CLIError(error.description)
        }
    }

    static func bundle(_ directory: String) throws -> AuthorityBundle {
        guard FileManager.default.fileExists(atPath: directory) else {
            throw CLIError("\(directory): no such directory; pass --rules with the deploy directory")
        }
        do {
            return try AuthorityBundle.load(from: URL(fileURLWithPath: directory, isDirectory: true))
        } catch {
            throw CLIError("the files in '\(directory)' do not load:\n\(error)\nrun `motcua rules check \(directory)`")
        }
    }

    /// The departments that run a worker: those with a rule table in the deploy directory `rules` (the catalogue
    /// and rules are the only list of departments).
    static func workerDepartments(_ rules: String = "deploy") throws -> [DepartmentID] {
        try bundle(rules).ruleSets.keys.sorted()
    }

    /// A step number as officials give it: 0 for the procedure's first step, 1 for the second, … (PostgreSQL keeps
    /// steps as 32-bit integers; a larger number once surfaced as "SQLSTATE 22003").
    static func checkStep(_ step: Int, allowWholeProcedure: Bool = false) throws {
        if allowWholeProcedure && step == -1 { return }
        guard step >= 0, step <= 999 else {
            throw ValidationError(
                "--step \(step) is not a step of a procedure: steps are numbered 0 (the first step), 1, 2, …"
                    + (allowWholeProcedure ? ", or -1 for the whole procedure" : "")
                    + "; leave --step out to act on the step the dossier is at (see `motcua status <code>`)")
        }
    }

    /// Throws unless `department` runs a worker under the deploy directory `rules`.
    static func checkDepartment(_ department: DepartmentID, rules: String = "deploy") throws {
        let known = try workerDepartments(rules)
        guard known.contains(department) else {
            throw ValidationError(
                "unknown department '\(department)': it is not a department with rules in '\(rules)'; one of: "
                    + known.map(\.rawValue).joined(separator: ", "))
        }
    }

    /// Prints a value as JSON (sorted keys, instants in ISO-8601) on standard output.
    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = MessageCoding.encoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// `2026-11-27 09:30` in Asia/Ho_Chi_Minh (UTC+7).
    static func local(_ date: Date?) -> String {
        guard let date else { return "—" }
        return LocalDateTime(instant: date).minuteText
    }

    /// A local day `YYYY-MM-DD`, checked.
    static func day(_ text: String, option: String) throws -> LocalDate {
        guard let day = LocalDate(text) else { throw CLIError("\(option): expected a date YYYY-MM-DD, got '\(text)'") }
        return day
    }

    /// Pads columns for a plain table.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        // Every cell is stored text: no control sequence or bidirectional override reaches the terminal.
        let rows = rows.map { $0.map(TerminalText.escape) }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

extension CLI {
    /// The dossier `key` names (its id or code), or an error that says how to find it.
    static func dossier(_ key: String, in db: PostgresConnection) throws -> DossierReference {
        guard let found = try DossierReference.resolve(key, on: db) else {
            throw CLIError(
                "no dossier with id or code '\(key)': check the code (AGENCY-yymmdd-NNNNNN, as on the receipt) or "
                    + "the dossier id; a dossier just submitted appears once reception has taken it")
        }
        return found
    }

    /// Sends one command or event (JSON, CloudEvents headers) with the idempotent producer and waits for the
    /// broker's acknowledgement.
    @discardableResult
    static func send(
        topic: String, key: String, type: String, id: UUID, source: String, value: [UInt8]
    ) async throws -> KafkaDeliveryReport {
        let producer = try producer()
        let report = try await producer.send(KafkaOutgoingMessage(
            topic: topic, key: key, value: value,
            headers: CloudEvents.headers(id: id.uuidString.lowercased(), type: type, source: source)))
        try producer.close()
        return report
    }
}
