import NIOConcurrencyHelpers

/// The request-body bytes the whole server may hold at once, shared by every connection.
///
/// Each request reserves its declared length (or, when chunked, each chunk) before the
/// bytes are read and returns it when its response is written, so many large uploads at
/// once are answered 503 instead of exhausting memory.
final class BodyBudget: Sendable {
    let limit: Int
    private let used = NIOLockedValueBox(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        return used.withLockedValue { used in
            guard used + bytes <= limit else { return false }
            used += bytes
            return true
        }
    }

    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.withLockedValue { used in
            used -= bytes
            precondition(used >= 0, "body budget released more than was reserved")
        }
    }

    /// Bytes currently reserved.
    var inUse: Int { used.withLockedValue { $0 } }
}
