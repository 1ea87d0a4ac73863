/// A key a report is broken down by.
public enum Grouping: Hashable, Sendable {
    case neighborhood
    case partner
    case period
    /// One of the indicator's declared dimensions, by name.
    case dimension(String)

    /// Parses the wire spelling: `neighborhood`, `partner`, `period` or `dimension:NAME`.
    public init?(_ text: String) {
        switch text {
        case "neighborhood": self = .neighborhood
        case "partner": self = .partner
        case "period": self = .period
        default:
            let prefix = "dimension:"
            guard text.hasPrefix(prefix), text.count > prefix.count else { return nil }
            self = .dimension(String(text.dropFirst(prefix.count)))
        }
    }

    /// The wire spelling, also the key of the group value in a ``Cell``: `dimension:age_group`.
    public var name: String {
        switch self {
        case .neighborhood: return "neighborhood"
        case .partner: return "partner"
        case .period: return "period"
        case .dimension(let dimension): return "dimension:\(dimension)"
        }
    }
}
