import Authority
import Postgres
import Store
import Synchronization

/// The catalogue versions stored in `catalogue_versions` (few: one per correction of the catalogue), as a worker
/// needs them: the time limit of the step a dossier is forwarded to is the one of the version the dossier was
/// received under, not the worker's catalogue's, when they differ.
final class CatalogueVersionCache: Sendable {
    private let versions = Mutex<[String: CatalogueVersion]>([:])

    /// Loads every stored version not loaded yet.
    func load(on connection: PostgresConnection) throws {
        let texts = try CatalogueVersionStore.all(on: connection)
        let known = versions.withLock { Set($0.keys) }
        var parsed: [String: CatalogueVersion] = [:]
        for (version, text) in texts where !known.contains(version) {
            // A text that does not rebuild to its own version is not used (the audit replay reports it).
            if let rebuilt = try? CatalogueVersion(canonicalText: text), rebuilt.version == version {
                parsed[version] = rebuilt
            }
        }
        versions.withLock { $0.merge(parsed) { a, _ in a } }
    }

    func knows(_ version: String) -> Bool { versions.withLock { $0[version] != nil } }

    /// The time limit of step `step` of procedure `code`: under the version `recorded` when it is not the current
    /// bundle's and is known, else under the current catalogue. Nil when the procedure is in neither.
    func stepLimit(of code: String, step: Int, recorded: String?, current bundle: AuthorityBundle) -> TimeLimit? {
        if let recorded, recorded != bundle.catalogueVersion.version,
            let limit = versions.withLock({ $0[recorded] })?.stepLimit(of: code, step: step)
        {
            return limit
        }
        return bundle.catalogueVersion.stepLimit(of: code, step: step)
    }
}
