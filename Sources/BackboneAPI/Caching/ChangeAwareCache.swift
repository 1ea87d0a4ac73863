import BackboneCore
import NIOConcurrencyHelpers
import Postgres

/// A small in-memory cache that is trusted only while its `ChangeListener` hears every
/// change; a notification (or a local write) empties it.
///
/// Every emptying bumps a generation; a value loaded while the generation moved (a key
/// revoked between its load and its insertion) is returned to that caller but never
/// cached, so a stale value cannot outlive the change that made it stale.
final class ChangeAwareCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entries {
        var values: [Key: Value] = [:]
        var generation = 0
        /// The database's count of changes the values were read after (see `follow`).
        var version: Int?
    }

    private let entries = NIOLockedValueBox(Entries())
    private let listener: ChangeListener
    private let capacity: Int

    init(listener: ChangeListener, capacity: Int = 10_000) {
        self.listener = listener
        self.capacity = capacity
    }

    /// The cached value, or the one `load` produces (cached when it is not nil).
    func value(for key: Key, load: () async throws -> Value?) async rethrows -> Value? {
        guard listener.isListening else { return try await load() }
        let (cached, generation) = lookUp(key)
        if let cached { return cached }
        guard let loaded = try await load() else { return nil }
        store(loaded, for: key, ifStill: generation)
        return loaded
    }

    /// `value(for:load:)` for a `load` that does not wait (one running on a database connection).
    func value(for key: Key, load: () throws -> Value?) rethrows -> Value? {
        guard listener.isListening else { return try load() }
        let (cached, generation) = lookUp(key)
        if let cached { return cached }
        guard let loaded = try load() else { return nil }
        store(loaded, for: key, ifStill: generation)
        return loaded
    }

    private func lookUp(_ key: Key) -> (Value?, generation: Int) {
        entries.withLockedValue { ($0.values[key], $0.generation) }
    }

    /// Caches `value` unless the cache was emptied since `generation` (it changed while loading).
    private func store(_ value: Value, for key: Key, ifStill generation: Int) {
        entries.withLockedValue { entries in
            guard entries.generation == generation else { return }
            if entries.values.count >= capacity { entries.values.removeAll() }
            entries.values[key] = value
        }
    }

    /// The cached value without loading it: `nil` when absent or while the cache is not trusted.
    func cachedValue(for key: Key) -> Value? {
        guard listener.isListening else { return nil }
        return entries.withLockedValue { $0.values[key] }
    }

    func removeAll() {
        entries.withLockedValue(Self.empty)
    }

    /// Drops every value and moves the generation, so nothing loaded before is stored.
    private static func empty(_ entries: inout Entries) {
        entries.values.removeAll()
        entries.generation += 1
    }

    /// Empties the cache when the database's count of changes is not the one it last saw:
    /// a change another server process committed is then not used even before its
    /// notification arrives (and a database restored to an earlier count is not taken for
    /// the same). Call it with the count a request read, before reading values.
    func follow(_ version: Int) {
        entries.withLockedValue { entries in
            guard version != entries.version else { return }
            Self.empty(&entries)
            entries.version = version
        }
    }

    /// How many times the cache was emptied, or nil while it is not trusted: a value derived
    /// from cached ones is current only while this stays the same.
    var trustedGeneration: Int? {
        guard listener.isListening else { return nil }
        return entries.withLockedValue { $0.generation }
    }

    /// How many values are cached (for tests).
    var count: Int { entries.withLockedValue { $0.values.count } }
}

/// Reports keep the registry's part in a cache that every registry change empties.
extension ChangeAwareCache: RegistryMemo where Key == String, Value == any Sendable {
    func remember<Remembered: Sendable>(_ key: String, _ load: () throws -> Remembered) throws -> Remembered {
        if let remembered = try value(for: key, load: { try load() as any Sendable }) as? Remembered {
            return remembered
        }
        return try load()  // not reached: the key's value always has this type
    }
}
