import ArgumentParser
import Authority
import Credentials
import Foundation
import Operations
import Store

extension OfficialsRegistryCommand {
    /// `motcua officials dev-ca`: a test CA and officials' keys and certificates, for development and the demo.
    struct DevCA: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dev-ca",
            abstract: "Make a test CA and issue officials' keys and certificates (development and demo only).",
            discussion: """
                Writes to --out: ca.cert.pem (the test CA, to trust with --trust), ca.key.pem, and for each \
                principal <id>.key.pem and <id>.cert.pem, plus officials.tsv (id, name, department, role). Key \
                files are mode 0600; they are never stored in PostgreSQL. By default each department gets a \
                director (RSA-2048), a deputy director (P-256) and a specialist (P-256); the portal (service), a payment gateway (service of department payments) and \
                a one-stop desk official (desk) are added. With --register the principals are recorded in the \
                registry (needs DATABASE_URL, the schema owner's role), trusting this CA.

                Example: motcua officials dev-ca --out .dev/officials --register
                """)

        @Option(help: "The directory to write (created; existing files are replaced).")
        var out: String = ".dev/officials"

        @Option(help: "Departments to issue officials for (repeatable; default: the five).")
        var department: [DepartmentID] = []

        @Option(help: "Days the certificates are valid from now.")
        var days: Int = 730

        @Flag(help: "Also register the principals (motcua officials add for each).")
        var register = false

        @Option(help: "The deploy directory: specialists and heads of division get the division of their department's default workflow route (deploy/workflows/).")
        var rules: String = "deploy"

        struct Entry {
            var id: String
            var name: String
            var department: String
            var role: PrincipalRole
            var kind: DevelopmentCA.KeyKind
            var division: String? = nil
        }

        func entries() -> [Entry] {
            let departments = (department.isEmpty ? ((try? CLI.workerDepartments()) ?? []) : department).map(\.rawValue)
            var entries: [Entry] = []
            let workflows = (try? AuthorityBundle.load(from: URL(fileURLWithPath: rules, isDirectory: true)).workflows) ?? [:]
            for department in departments {
                let division = workflows[DepartmentID(department)]?.defaultRoute.division
                entries.append(Entry(id: "\(department)-director", name: "Director, \(department)", department: department, role: .director, kind: .rsa2048))
                entries.append(Entry(id: "\(department)-deputy", name: "Deputy director, \(department)", department: department, role: .deputyDirector, kind: .p256))
                entries.append(Entry(id: "\(department)-specialist", name: "Specialist, \(department)", department: department, role: .specialist, kind: .p256, division: division))
                // Inside the department (deploy/workflows/): a second specialist and the head of the division.
                entries.append(Entry(id: "\(department)-specialist-2", name: "Specialist 2, \(department)", department: department, role: .specialist, kind: .p256, division: division))
                entries.append(Entry(id: "\(department)-head", name: "Head of division, \(department)", department: department, role: .headOfDivision, kind: .p256, division: division))
            }
            entries.append(Entry(id: "portal", name: "Public service portal", department: "one-stop", role: .service, kind: .p256))
            entries.append(Entry(id: "desk-1", name: "One-stop desk official", department: "one-stop", role: .desk, kind: .p256))
            entries.append(Entry(id: "payment-gateway", name: "Payment gateway", department: "payments", role: .service, kind: .p256))
            return entries
        }

        func run() async throws {
            let now = try CLI.clock().now()
            // Valid from a day back, so a simulated clock a little behind the wall clock still finds them valid.
            let notBefore = now.addingTimeInterval(-86_400)
            let notAfter = now.addingTimeInterval(Double(days) * 86_400)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let ca = try DevelopmentCA(notBefore: notBefore, notAfter: notAfter.addingTimeInterval(86_400))
            try write(try ca.certificatePEM, to: "ca.cert.pem", secret: false)
            try write(try ca.keyPEM, to: "ca.key.pem", secret: true)
            var manifest = ""
            var issued: [(Entry, SigningCertificate)] = []
            for entry in entries() {
                let (key, certificate) = try ca.issue(
                    commonName: entry.name, kind: entry.kind, notBefore: notBefore, notAfter: notAfter)
                try write(key.pemRepresentation, to: "\(entry.id).key.pem", secret: true)
                try write(certificate.pem, to: "\(entry.id).cert.pem", secret: false)
                manifest += "\(entry.id)\t\(entry.name)\t\(entry.department)\t\(entry.role.rawValue)\n"
                issued.append((entry, certificate))
            }
            try write(manifest, to: "officials.tsv", secret: false)
            print("wrote a test CA and \(issued.count) keys and certificates to \(out) (keys mode 0600; not for production)")
            guard register else { return }
            let db = try CLI.database()
            let registry = try OfficialsStore.registry(in: db)
            var added = 0
            for (entry, certificate) in issued where registry.principals[entry.id] == nil {
                if let problem = await certificate.verify(roots: [ca.certificate], at: now) {
                    throw CLIError("\(entry.id): \(problem)")
                }
                try OfficialsStore.add(
                    OfficialsStore.PrincipalRecord(
                        id: entry.id, displayName: entry.name, department: entry.department, division: entry.division,
                        role: entry.role, algorithm: certificate.key.algorithm,
                        publicKey: certificate.key.spkiDER.base64EncodedString(), certificateSHA256: certificate.sha256,
                        validFrom: certificate.notValidBefore, validTo: certificate.notValidAfter),
                    certificate: certificate.der, at: now, in: db)
                added += 1
            }
            print("registered \(added) principals (ids already registered were kept: rotate with a new id)")
        }

        /// Writes a file created with its final mode (a key file is never readable by others, not even briefly).
        func write(_ text: String, to name: String, secret: Bool) throws {
            let path = (out as NSString).appendingPathComponent(name)
            try? FileManager.default.removeItem(atPath: path)
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, secret ? 0o600 : 0o644)
            guard descriptor >= 0 else { throw CLIError("cannot create \(path): \(String(cString: strerror(errno)))") }
            defer { close(descriptor) }
            try FileHandle(fileDescriptor: descriptor, closeOnDealloc: false).write(contentsOf: Data(text.utf8))
        }
    }
}
