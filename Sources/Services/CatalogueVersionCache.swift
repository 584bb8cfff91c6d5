import Authority
import Postgres
import Store
import Synchronization

/// The catalogue versions stored in `catalogue_versions` (few: one per correction of the catalogue), as a worker
/// needs them: the documents a dossier must hold, the documents and facts a supplement may bring, and the time limit
/// of the step a dossier is forwarded to are those of the version the dossier was received under, not the worker's
/// catalogue's, when they differ. The audit replay re-derives each decision with the same catalogue.
package final class CatalogueVersionCache: Sendable {
    private let versions = Mutex<[String: CatalogueVersion]>([:])
    /// The worker's catalogue with the terms of a version, by version (built once per version).
    private let catalogues = Mutex<[String: (base: String, catalogue: Catalogue)]>([:])

    package init() {}

    /// Loads every stored version not loaded yet (one statement).
    package func load(on connection: PostgresConnection) throws {
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

    package func knows(_ version: String) -> Bool { versions.withLock { $0[version] != nil } }

    /// The time limit of step `step` of procedure `code`: under the version `recorded` when it is not the current
    /// bundle's and is known, else under the current catalogue. Nil when the procedure is in neither.
    package func stepLimit(of code: String, step: Int, recorded: String?, current bundle: AuthorityBundle) -> TimeLimit? {
        if let recorded, recorded != bundle.catalogueVersion.version,
            let limit = versions.withLock({ $0[recorded] })?.stepLimit(of: code, step: step)
        {
            return limit
        }
        return bundle.catalogueVersion.stepLimit(of: code, step: step)
    }

    /// The catalogue a dossier received under version `recorded` is decided with: the current bundle's, with each
    /// procedure's documents, facts, time limit and steps taken from `recorded` when it is not the current version
    /// and is known (a procedure not in `recorded` keeps its current terms). The current catalogue when `recorded`
    /// is nil, the current version or not known.
    package func catalogue(for recorded: String?, current bundle: AuthorityBundle) -> Catalogue {
        let base = bundle.catalogueVersion.version
        guard let recorded, recorded != base, let version = versions.withLock({ $0[recorded] }) else {
            return bundle.catalogue
        }
        if let built = catalogues.withLock({ $0[recorded] }), built.base == base { return built.catalogue }
        let current = bundle.catalogue
        let procedures = current.procedures.map { procedure in
            guard let terms = version.terms(of: procedure.code) else { return procedure }
            var p = procedure
            p.documents = terms.documents
            p.facts = terms.facts
            p.timeLimit = terms.timeLimit
            if !terms.steps.isEmpty { p.steps = terms.steps }
            return p
        }
        let catalogue = Catalogue(
            departments: current.departments, documentTypes: current.documentTypes, procedures: procedures,
            communes: current.communes)
        catalogues.withLock { $0[recorded] = (base, catalogue) }
        return catalogue
    }
}
