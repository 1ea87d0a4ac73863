import BackboneCore
import HTTPServer

/// Who may call a route, declared beside it in the route table and enforced once, on the
/// request's head (before a body is read) and again before the handler runs.
enum Access: Sendable, Equatable {
    /// Anyone, without a key: health, the contract, the dashboard (which signs people in itself).
    case `public`
    /// Any live key.
    case anyKey
    /// Keys that may see raw measurements: the coordinator's and partners', not viewers'.
    case rawData
    /// The coordinator's key only; `action` completes "A partner key may not …".
    case coordinator(String)
    /// Partner keys only (what a partner says in its own name); `action` completes "A … key may not …".
    case partner(String)
    /// The coordinator's and partners' keys, not viewers' (a partner's own things, such as
    /// its actions); `action` completes "A viewer key may not …".
    case partnerOrCoordinator(String)

    /// Refuses a caller this route is not for (403); `nil` is a public route's caller.
    func admit(_ caller: Caller?) throws {
        guard let caller else { return }
        switch self {
        case .public, .anyKey:
            return
        case .rawData where caller.role == .viewer:
            throw Problem(
                status: .forbidden, code: "forbidden", title: "Forbidden",
                detail: "A viewer key reads the registry and aggregates only, not raw measurements.")
        case .rawData:
            return
        case .coordinator(let action) where !caller.isCoordinator:
            throw Problem(
                status: .forbidden, code: "forbidden", title: "Forbidden",
                detail: "A \(caller.role.rawValue) key may not \(action); it needs a coordinator key.")
        case .coordinator:
            return
        case .partner(let action) where caller.key.partner == nil:
            throw Problem(
                status: .forbidden, code: "forbidden", title: "Forbidden",
                detail: "A \(caller.role.rawValue) key may not \(action); it needs a partner key.")
        case .partner:
            return
        case .partnerOrCoordinator(let action) where caller.role == .viewer:
            throw Problem(
                status: .forbidden, code: "forbidden", title: "Forbidden",
                detail: "A viewer key may not \(action); it reads only.")
        case .partnerOrCoordinator:
            return
        }
    }
}
