import NIOConcurrencyHelpers
import Postgres

/// A small in-memory cache that is trusted only while its `ChangeListener` hears every
/// change; a notification (or a local write) empties it.
final class ChangeAwareCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = NIOLockedValueBox<[Key: Value]>([:])
    private let listener: ChangeListener
    private let capacity: Int

    init(listener: ChangeListener, capacity: Int = 10_000) {
        self.listener = listener
        self.capacity = capacity
    }

    /// The cached value, or the one `load` produces (cached when it is not nil).
    func value(for key: Key, load: () async throws -> Value?) async rethrows -> Value? {
        guard listener.isListening else { return try await load() }
        if let cached = entries.withLockedValue({ $0[key] }) { return cached }
        guard let loaded = try await load() else { return nil }
        entries.withLockedValue { entries in
            if entries.count >= capacity { entries.removeAll() }
            entries[key] = loaded
        }
        return loaded
    }

    func removeAll() {
        entries.withLockedValue { $0.removeAll() }
    }
}
