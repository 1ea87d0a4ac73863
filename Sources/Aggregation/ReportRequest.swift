/// How a report should be cut.
public struct ReportRequest: Sendable {
    /// The breakdown keys in the order requested, e.g. `[.neighborhood, .period]`; `[]` for the total only.
    public var groupings: [Grouping]
    /// A coarser reporting period; `nil` (or one finer than the indicator's) means the indicator's own.
    public var periodType: PeriodType?
    /// Roll neighborhoods up to this tree depth: each measurement counts for its ancestor at that
    /// depth; one reported for a shallower neighborhood keeps that neighborhood's own row
    /// (marked ``Cell/reportedAbove``), so the total is the same at every depth.
    public var neighborhoodDepth: Int?
    /// Only neighborhoods in this subtree (the root included).
    public var within: String?

    public init(
        groupings: [Grouping] = [], periodType: PeriodType? = nil, neighborhoodDepth: Int? = nil, within: String? = nil
    ) {
        self.groupings = groupings
        self.periodType = periodType
        self.neighborhoodDepth = neighborhoodDepth
        self.within = within
    }
}
