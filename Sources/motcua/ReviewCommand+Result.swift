import ArgumentParser
import Foundation
import Messages
import Operations

extension ReviewCommand {
    /// `review sign`'s electronic result file (issue 21: digitisation): all of document, link and digest, or none.
    struct ResultOptions: ParsableArguments {
        @Option(name: .customLong("result-document"), help: "The result file's id in the document store (1–128 of A–Z a–z 0–9 . _ / : -).")
        var document: String?

        @Option(name: .customLong("result-link"), help: "Where the applicant fetches it: an https:// URL.")
        var link: String?

        @Option(name: .customLong("result-file"), help: "The result file itself: its SHA-256 is computed here (or give --result-sha256).")
        var file: String?

        @Option(name: .customLong("result-sha256"), help: "The result file's SHA-256, 64 lowercase hexadecimal digits.")
        var sha256: String?

        func validate() throws {
            let given = [document, link, file ?? sha256].filter { $0 != nil }.count
            guard given == 0 || given == 3 else {
                throw ValidationError(
                    "a result file needs --result-document ID, --result-link https://… and --result-file FILE (or "
                        + "--result-sha256 HEX); leave all out to sign without one")
            }
            guard file == nil || sha256 == nil else {
                throw ValidationError("--result-file and --result-sha256 exclude each other: give the file or its digest")
            }
        }

        /// The reference, or nil when none is given; an error saying what is wrong with a malformed one (the worker
        /// would refuse the signature for it: `bad-result-reference`).
        func reference() throws -> ResultReference? {
            guard let document, let link else { return nil }
            let digest: String
            if let file {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw CLIError("--result-file '\(TerminalText.escape(file))': cannot read it; check the path")
                }
                digest = ResultReference.sha256(of: data)
            } else {
                digest = sha256 ?? ""
            }
            let reference = ResultReference(documentId: document, sha256: digest, link: link)
            if let problem = reference.problem {
                throw CLIError("the result file cannot be recorded: \(problem)")
            }
            return reference
        }
    }
}
