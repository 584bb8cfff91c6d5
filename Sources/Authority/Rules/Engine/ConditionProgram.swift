/// Conditions compiled to a flat node array with fact names resolved to slots.
///
/// A dossier's facts are looked up once per evaluation (only those the applicable rules read) into a slot
/// buffer; the nodes then read slots by index. Nothing is interpreted from dictionaries per dossier.
///
/// The engine, by concern: this file (what a program holds), `ConditionProgram+Types` (nodes, loaded facts,
/// verdicts), `+Compile` (conditions → nodes → leaves with jumps), `+Steps` (a rule table's leaves as specialised
/// steps), `+Facts` (a dossier's facts into slots), `+Run` (the evaluation loops), `+Compare` (the general
/// comparisons); `FactNameIndex` and `InternedStrings` find names and strings by their bytes, and `StringLayout`
/// is the only code that reads a String's storage.
final class ConditionProgram: Sendable {
    /// Plain data only, so that reading one copies no references.
    let instructions: [Instruction]
    let literals: [Literal]
    /// The source condition of each instruction, for explanations.
    let sources: [Condition]
    let children: [Int32]
    /// Slot index → fact name.
    let factNames: [String]
    /// Root node of each compiled condition, in the order given.
    let roots: [Int32]
    /// The leaves of every condition in pre-order, with jump targets for all/any/not (short-circuit): evaluated by
    /// one loop, no recursion. An empty `all`/`any` is a leaf.
    let code: ContiguousArray<Instruction>
    /// Position in `code` where each root starts.
    let entries: [Int32]
    /// Fact slots each root reads.
    let slotsOfRoot: [[Int32]]
    /// For a program of one root (a delegation's conditions): `slotsOfRoot[0]`, and the root's leaves as
    /// specialised steps (`steps(rules: [0], bitOffsets: [0])`), run by `holds(_:sharing:)`. Empty otherwise.
    let soleSlots: [Int32]
    let soleSteps: ContiguousArray<Step>
    /// Slots of the commune and the procedure code when conditions compare them with strings (after the facts'),
    /// else -1; `slotCount` counts every slot.
    let communeSlot: Int32
    let procedureSlot: Int32
    let slotCount: Int
    /// The distinct strings each slot is compared with (eq, ne, in, notIn), so that a dossier's string is compared
    /// with them once per evaluation and conditions test a bit.
    let interned: InternedStrings
    /// Fact names → slots, by representation and by bytes.
    let names: FactNameIndex

    init(conditions: [Condition]) {
        let tree = ConditionProgram.compile(conditions)
        instructions = tree.instructions
        literals = tree.literals
        sources = tree.sources
        children = tree.children
        factNames = tree.factNames
        roots = tree.roots
        slotsOfRoot = tree.slotsOfRoot
        communeSlot = tree.communeSlot
        procedureSlot = tree.procedureSlot
        slotCount = tree.slotCount
        interned = InternedStrings(tree.interned)
        names = FactNameIndex(tree.factNames)
        let (code, entries) = ConditionProgram.flatten(tree.instructions, tree.children, tree.roots)
        (self.code, self.entries) = (code, entries)
        soleSlots = tree.roots.count == 1 ? tree.slotsOfRoot[0] : []
        soleSteps =
            tree.roots.count == 1
            ? ConditionProgram.steps(code: code, entries: entries, rules: [0], bitOffsets: [0]) : []
    }

    /// The number of leaves of root `root` in `code` (its leaves are contiguous: nodes are numbered in pre-order).
    func leafCount(root: Int) -> Int {
        let end = root + 1 < entries.count ? Int(entries[root + 1]) : code.count
        return end - Int(entries[root])
    }
}
