import Aggregation
import BackboneCore

/// Who is calling: the API key behind the request's bearer token.
struct Caller: Sendable {
    let key: APIKey

    var role: Role { key.role }
    var isCoordinator: Bool { key.role == .coordinator }

    /// How reports treat this caller: the coordinator reads live data, partner and viewer
    /// keys read releases (a partner its own rows of a `by=partner` report too).
    var audience: Reports.Audience {
        isCoordinator ? .coordinator : .published(partner: key.partner)
    }

    /// The key as the domain records who acted.
    var keyHolder: KeyHolder { KeyHolder(keyID: key.id, partner: key.partner) }
}
