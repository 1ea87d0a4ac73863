/// The neighborhood hierarchy (city → district → neighborhood) with populations.
public struct NeighborhoodTree: Sendable {
    /// Each known code's chain of ancestors, root first, ending with the code itself.
    private let chains: [String: [String]]
    private let populations: [String: Int?]
    /// Each code's children, in code order.
    private let childrenByCode: [String: [String]]
    /// The codes without a parent, in code order.
    public let roots: [String]

    /// `parents` maps every code to its parent (`nil` for a root); a parent missing from the map
    /// counts as a root. Codes caught in a parent cycle are left out of the tree.
    public init(parents: [String: String?], populations: [String: Int?]) {
        var chains: [String: [String]] = [:]
        for code in parents.keys {
            var chain = [code]
            var seen: Set = [code]
            var isCycle = false
            while let parent = parents[chain.last!] ?? nil {
                guard seen.insert(parent).inserted else { isCycle = true; break }
                chain.append(parent)
            }
            if !isCycle { chains[code] = chain.reversed() }
        }
        self.chains = chains
        self.populations = populations
        var children: [String: [String]] = [:]
        var roots: [String] = []
        for (code, chain) in chains {
            if chain.count == 1 {
                roots.append(code)
            } else {
                children[chain[chain.count - 2], default: []].append(code)
            }
        }
        self.childrenByCode = children.mapValues { $0.sorted() }
        self.roots = roots.sorted()
    }

    /// How far below a root `code` sits (roots have depth 0); `nil` for an unknown code.
    public func depth(of code: String) -> Int? {
        chains[code].map { $0.count - 1 }
    }

    /// The ancestor of `code` at `depth`: `code` itself at its own depth, `nil` if `code` is shallower or unknown.
    public func ancestor(of code: String, atDepth depth: Int) -> String? {
        guard depth >= 0, let chain = chains[code], depth < chain.count else { return nil }
        return chain[depth]
    }

    /// Whether `code` is `root` or lies below it.
    public func isWithin(_ code: String, subtreeOf root: String) -> Bool {
        chains[code]?.contains(root) ?? false
    }

    /// The neighborhoods whose parent is `code`, in code order.
    public func children(of code: String) -> [String] {
        childrenByCode[code] ?? []
    }

    /// `code` and its ancestors, root first; `[]` for an unknown code.
    public func chain(of code: String) -> [String] {
        chains[code] ?? []
    }

    /// The residents of `code`, when recorded.
    public func population(of code: String) -> Int? {
        populations[code] ?? nil
    }

    /// The residents of the whole community: the sum of the populations of the roots (the
    /// top-level areas), `nil` when a root has none recorded or there are no roots.
    public var communityPopulation: Int? {
        guard !roots.isEmpty else { return nil }
        var total = 0
        for root in roots {
            guard let population = population(of: root) else { return nil }
            total += population
        }
        return total > 0 ? total : nil
    }
}
