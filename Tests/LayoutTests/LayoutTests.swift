import Foundation
import TestSupport
import Testing

/// Keeps the module layout true: which modules may write SQL, call C, parse command lines, and what a department
/// worker executable links.
@Suite("Module layout")
struct LayoutTests {
    static let sources = TestEnvironment.root.appendingPathComponent("Sources")

    /// The Swift files of one module (folder under Sources/), relative paths.
    static func files(_ module: String) throws -> [String] {
        let base = sources.appendingPathComponent(module)
        guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.map { "\(module)/\($0)" }.sorted()
    }

    static var modules: [String] {
        get throws {
            try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { !$0.hasPrefix(".") }.sorted()
        }
    }

    static func text(_ file: String) throws -> String {
        try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
    }

    static func imports(_ file: String) throws -> Set<String> {
        Set(try text(file).split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard let index = words.firstIndex(of: "import"), index + 1 < words.count,
                words[..<index].allSatisfy({ $0.hasPrefix("@") })
            else { return nil }
            return String(words[index + 1])
        })
    }

    /// A statement of SQL in a string literal: the verbs MotCua's queries start with, followed by what they act on.
    static func containsSQL(_ text: String) -> Bool {
        text.range(of: #"(SELECT [a-z*(]|INSERT INTO |UPDATE [a-z_]+ SET |DELETE FROM |CREATE (TABLE|INDEX|ROLE) )"#,
                   options: .regularExpression) != nil
    }

    /// Files that still hold SQL of their own outside the modules meant for it. The list may only shrink: a file
    /// that loses its SQL must leave it, and no other file may gain SQL.
    static let sqlStillOutsideStore: Set<String> = []

    @Test("SQL is written only in Postgres, EffectivelyOnce and Store (and the files still listed as debt)")
    func sqlPlaces() throws {
        var found: Set<String> = []
        for module in try Self.modules {
            for file in try Self.files(module) where Self.containsSQL(try Self.text(file)) { found.insert(file) }
        }
        let allowedModules = ["Postgres/", "EffectivelyOnce/", "Store/"]
        let outside = found.filter { file in !allowedModules.contains { file.hasPrefix($0) } }
        #expect(outside.subtracting(Self.sqlStillOutsideStore).isEmpty, "new SQL outside Store: \(outside.subtracting(Self.sqlStillOutsideStore).sorted())")
        #expect(Self.sqlStillOutsideStore.subtracting(outside).isEmpty, "no SQL left, remove from the list: \(Self.sqlStillOutsideStore.subtracting(outside).sorted())")
        #expect(!found.filter { $0.hasPrefix("Store/") }.isEmpty, "the check finds Store's own SQL")
    }

    @Test("C is called from one module each; ArgumentParser only in executables and ServiceCommands")
    func boundaries() throws {
        let executables: Set<String> = ["motcua", "coordinator", "devbroker", "industry-trade-worker", "environment-worker",
                                        "labour-worker", "culture-worker", "industrial-zones-worker"]
        var cKafka: Set<String> = [], cPQ: Set<String> = [], parsers: Set<String> = [], engine: Set<String> = []
        for module in try Self.modules {
            for file in try Self.files(module) {
                let imported = try Self.imports(file)
                if imported.contains("CRdKafka") { cKafka.insert(module) }
                if imported.contains("CLibPQ") { cPQ.insert(module) }
                if imported.contains("ArgumentParser") { parsers.insert(module) }
                if module == "EffectivelyOnce" { engine.formUnion(imported) }
            }
        }
        #expect(cKafka == ["Kafka"])
        #expect(cPQ == ["Postgres"])
        #expect(parsers.subtracting(executables) == ["ServiceCommands"], "\(parsers.sorted())")
        #expect(engine.isDisjoint(with: ["Authority", "Messages", "Store", "Services"]), "EffectivelyOnce knows the domain: \(engine.sorted())")
    }

    @Test("a department worker executable links no audit, page, simulation, certificate or motcua CLI code")
    func workerLinks() throws {
        let bin = try TestEnvironment.require("MOTCUA_BIN")
        // Swift symbols carry their module's name (`$s5Audit…`, `$s5Pages…`): read them from the built binaries.
        func symbols(_ executable: String) throws -> String {
            let path = URL(fileURLWithPath: bin).appendingPathComponent(executable).path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/nm")
            process.arguments = ["--defined-only", path]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "nm \(path)")
            return String(decoding: data, as: UTF8.self)
        }
        // Nor certificate parsing: workers verify signatures with the keys the registry recorded (Authority);
        // certificates and their chains are checked when `motcua officials add` registers them (Credentials).
        let forbidden = ["$s5Audit", "$s5Pages", "$s10Simulation", "$s6motcua", "$s11Credentials", "$s4X509"]
        for department in ["industry-trade", "environment", "labour", "culture", "industrial-zones"] {
            let linked = try symbols("\(department)-worker")
            #expect(linked.contains("$s8Services"), "the check reads the worker's own modules")
            #expect(linked.contains("$s10Operations"), "the worker keeps /health and /metrics")
            for module in forbidden { #expect(!linked.contains(module), "\(department)-worker links \(module)") }
        }
        // And the check can see them where they are.
        let coordinator = try symbols("coordinator")
        #expect(coordinator.contains("$s5Pages"))
        #expect(!coordinator.contains("$s5Audit"))
    }
}
