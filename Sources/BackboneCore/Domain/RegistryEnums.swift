/// The kinds of partner organisation (from the seeds' partner mapping).
public enum PartnerKind: String, Sendable, CaseIterable {
    case library, school, nonprofit, business, government, faith
    case neighborhoodAssociation = "neighborhood_association"
    case funder, other
}

/// The levels of partnership, from the loosest to the closest.
public enum PartnershipLevel: String, Sendable, CaseIterable {
    case networking, cooperating, informing, collaborating, coalition, embedded
    case collectiveImpact = "collective_impact"
}
