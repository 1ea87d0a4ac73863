import Aggregation
import BackboneCore

/// Who is calling: the API key behind the request's bearer token.
struct Caller: Sendable {
    let key: APIKey

    var role: Role { key.role }
    var isCoordinator: Bool { key.role == .coordinator }

    /// How reports treat this caller: the coordinator sees every cell, partner and viewer
    /// keys see the cells `policy` protects (a partner its own rows of a `by=partner` report too).
    func audience(_ policy: SuppressionPolicy) -> Reports.Audience {
        isCoordinator ? Reports.Audience(policy: nil) : Reports.Audience(policy: policy, partner: key.partner)
    }
}
