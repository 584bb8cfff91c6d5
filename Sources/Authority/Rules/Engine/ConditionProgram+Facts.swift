extension ConditionProgram {
    /// Runs `body` with the dossier's facts in `slots` loaded into a stack buffer.
    ///
    /// The dossier travels as a pointer: captured by value in these closures it was copied (every field retained)
    /// for each rule, which dominated the profile.
    func withFacts<R>(of dossier: UnsafePointer<Dossier>, slots: [Int32], _ body: (Facts) -> R) -> R {
        let count = max(slotCount, 1)
        return withUnsafeTemporaryAllocation(of: Loaded.self, capacity: count) { loaded in
            withUnsafeTemporaryAllocation(of: FactValue.self, capacity: count) { others in
                let facts = load(dossier, slots: slots, loaded: loaded.baseAddress!, others: others.baseAddress!)
                defer { unload(facts) }
                return body(facts)
            }
        }
    }

    /// Loads the dossier's facts in `slots` (and the commune and procedure code when conditions compare them) into
    /// buffers of `max(slotCount, 1)` uninitialized elements; `unload` must be called on the result.
    @inline(__always)
    func load(
        _ dossier: UnsafePointer<Dossier>, slots: [Int32], loaded l: UnsafeMutablePointer<Loaded>,
        others o: UnsafeMutablePointer<FactValue>
    ) -> Facts {
        let count = max(slotCount, 1)
        l.initialize(repeating: Loaded.absent, count: count)
        // `others[slot]` is initialized only where `loaded[slot].kind.isInSideBuffer`; most facts are numbers.
        loadFacts(dossier, loaded: l, others: o, slots: slots)
        loadCodes(dossier, l)
        return Facts(
            loaded: UnsafeBufferPointer(start: l, count: count), others: UnsafeBufferPointer(start: o, count: count))
    }

    /// The commune and procedure code, when conditions compare them, as interned ids in their slots.
    @inline(__always)
    func loadCodes(_ dossier: UnsafePointer<Dossier>, _ l: UnsafeMutablePointer<Loaded>) {
        if communeSlot >= 0 {
            l[Int(communeSlot)] = Loaded(
                kind: .field, bits: interned.id(of: dossier.pointee.commune, slot: Int(communeSlot)), number: 0)
        }
        if procedureSlot >= 0 {
            l[Int(procedureSlot)] = Loaded(
                kind: .field, bits: interned.id(of: dossier.pointee.procedure, slot: Int(procedureSlot)), number: 0)
        }
    }

    /// Releases what `load` stored in the side buffer.
    @inline(__always)
    func unload(_ facts: Facts) {
        let l = facts.loaded.baseAddress!
        let o = UnsafeMutablePointer(mutating: facts.others.baseAddress!)
        for slot in 0..<facts.loaded.count where l[slot].kind.isInSideBuffer {
            (o + slot).deinitialize(count: 1)
        }
    }

    /// The slot of fact `name`, or -1; first by its representation.
    @inline(__always)
    func slot(ofFactNamed name: String) -> Int32 {
        names.slot(ofFactNamed: name)
    }

    /// Loads the dossier's value of each fact in `slots` (the buffers hold absent values on entry). When the
    /// dossier's facts are walked, every fact slot of the program is loaded; otherwise the slots not in `slots` are
    /// marked `LoadedKind.notLookedUp` (only `SharedFacts.loaded` reads them).
    func loadFacts(
        _ dossier: UnsafePointer<Dossier>, loaded: UnsafeMutablePointer<Loaded>,
        others: UnsafeMutablePointer<FactValue>,
        slots: [Int32]
    ) {
        if !slots.isEmpty && dossier.pointee.facts.count <= 2 * slots.count {
            // Walk the dossier's facts (no hashing). A name stored as one of the rules' names is found by its
            // representation; any other by `FactNameIndex.slot(missedName:)`.
            let representations = names.representations
            for (name, value) in dossier.pointee.facts {
                var slot = representations.find(name)
                if slot < 0 {
                    slot = names.slot(missedName: name)
                    if slot < 0 { continue }
                }
                // Numbers and booleans as plain data: no copy of the value.
                switch value {
                case .integer(let i): loaded[Int(slot)] = Loaded(kind: .integer, bits: i, number: Double(i))
                case .number(let d): loaded[Int(slot)] = Loaded(kind: .number, bits: 0, number: d)
                case .bool(let b): loaded[Int(slot)] = Loaded(kind: .boolean, bits: b ? 1 : 0, number: 0)
                default: storeOther(value, Int(slot), loaded, others)
                }
            }
        } else {
            for slot in 0..<factNames.count { loaded[slot].kind = .notLookedUp }
            for slot in slots { loaded[Int(slot)].kind = .absent }
            for slot in slots {
                if let value = dossier.pointee.facts[factNames[Int(slot)]] {
                    store(value, Int(slot), loaded, others)
                }
            }
        }
    }

    /// Stores `value` in slot `slot`: numbers and booleans as plain data, anything else in the side buffer
    /// (replacing what is there), a string with its interned id.
    @inline(__always)
    func store(
        _ value: FactValue, _ slot: Int, _ loaded: UnsafeMutablePointer<Loaded>,
        _ others: UnsafeMutablePointer<FactValue>
    ) {
        switch value {
        case .integer(let i): loaded[slot] = Loaded(kind: .integer, bits: i, number: Double(i))
        case .number(let d): loaded[slot] = Loaded(kind: .number, bits: 0, number: d)
        case .bool(let b): loaded[slot] = Loaded(kind: .boolean, bits: b ? 1 : 0, number: 0)
        default:
            if loaded[slot].kind.isInSideBuffer {
                others[slot] = value
            } else {
                (others + slot).initialize(to: value)
            }
            if case .string(let s) = value {
                loaded[slot] = Loaded(kind: .string, bits: interned.id(of: s, slot: slot), number: 0)
            } else {
                loaded[slot] = Loaded(kind: .other, bits: 0, number: 0)
            }
        }
    }

    /// `store` for a value that is not a number or a boolean (kept in the side buffer).
    @inline(never)
    private func storeOther(
        _ value: FactValue, _ slot: Int, _ loaded: UnsafeMutablePointer<Loaded>,
        _ others: UnsafeMutablePointer<FactValue>
    ) {
        store(value, slot, loaded, others)
    }

    /// Loads the facts of root `root` reading those `shared` loaded where it can (numbers and booleans in place,
    /// strings stored again since they are interned per slot) and looking up only the others in the dossier, then
    /// the commune and procedure code. Returns whether anything went into the side buffer.
    @inline(__always)
    func load(
        slots: [Int32], _ dossier: UnsafePointer<Dossier>, sharing shared: SharedFacts,
        loaded l: UnsafeMutablePointer<Loaded>, others o: UnsafeMutablePointer<FactValue>
    ) -> Bool {
        var stored = false
        slots.withUnsafeBufferPointer { slots in
            factNames.withUnsafeBufferPointer { names in
                for slot in slots {
                    let s = Int(slot)
                    let theirs = shared.slot(ofFactNamed: names[s])
                    if theirs >= 0 && shared.loaded(theirs) {
                        let value = shared.facts.loaded[Int(theirs)]
                        if value.kind.isInSideBuffer {
                            // Strings are interned per slot: store again for ours.
                            store(shared.facts.others[Int(theirs)], s, l, o)
                            stored = true
                        } else if value.kind != .absent {
                            l[s] = value
                        }
                    } else if let value = dossier.pointee.facts[names[s]] {
                        store(value, s, l, o)
                        stored = true
                    }
                }
            }
        }
        loadCodes(dossier, l)
        return stored
    }
}
