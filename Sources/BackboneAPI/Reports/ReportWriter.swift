import HTTPServer

/// Writes one report kind's answer as a response, in the representation the request
/// negotiated (JSON or CSV). A writer holds what it needs of the request (the groupings,
/// the agenda, …); the route builds it and hands it the domain's answer.
protocol ReportWriter {
    /// What the domain answers for this report.
    associatedtype Answer: Sendable

    func response(_ answer: Answer, as representation: Representation) throws -> HTTPResponse
}
