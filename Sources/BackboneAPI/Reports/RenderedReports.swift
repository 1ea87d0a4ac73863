import HTTPServer
import NIOConcurrencyHelpers
import Postgres

/// Report responses as they were rendered, given again to whoever asks the same while
/// nothing has changed: a dashboard opened again and again between uploads costs one
/// query instead of a report.
///
/// "Nothing has changed" is checked, not assumed. Each response is stamped with the
/// database snapshot (`pg_current_snapshot()`) read before its report was computed and
/// with the generation of the registry memo the report used; it is given again only to a
/// request that reads the same snapshot and generation. Equal snapshots see the same
/// committed transactions (any write that commits, in any server process, changes the
/// snapshot), so a kept response is exactly what computing it again would give. (The
/// snapshot is the PostgreSQL cluster's: a write in another database on the same server
/// moves it too, which costs kept responses, never correctness.) A
/// registry change empties the memo and moves its generation (read with the snapshot, the
/// database's `registry_version` tells of a change before its notification arrives), and
/// while the memo is not trusted (its change listener is down) nothing is kept or given.
final class RenderedReports: Sendable {
    /// What makes two report requests the same: the report, the caller's view, the
    /// representation, the path and the query's names and values (decoded, in the order
    /// sent; a list, so that no value can pass for two parameters).
    struct Key: Hashable, Sendable {
        var report: ReportKind
        var audience: String
        var representation: Representation
        var path: String
        var query: [String]
    }

    /// When a response was rendered: the database's snapshot and the registry memo's generation.
    struct Stamp: Equatable, Sendable {
        var snapshot: String
        var registryGeneration: Int
    }

    /// What a report request found on its connection: a kept response, or the report it
    /// computed and the stamp that was current before.
    enum Outcome<Value: Sendable>: Sendable {
        case kept(HTTPResponse)
        case computed(Value, Stamp?)
    }

    private struct State {
        var stamp: Stamp?
        var responses: [Key: HTTPResponse] = [:]
        var bytes = 0
    }

    private let state = NIOLockedValueBox(State())
    private let registry: ChangeAwareCache<String, any Sendable>
    /// The most body bytes kept at once; a response larger than an eighth of it is not kept.
    let capacityBytes: Int

    init(registry: ChangeAwareCache<String, any Sendable>, capacityBytes: Int = 64 << 20) {
        self.registry = registry
        self.capacityBytes = capacityBytes
    }

    /// The stamp a report computed now on `connection` gets; nil while nothing may be kept.
    /// Read it before the report's own queries: it also empties the registry memo when the
    /// database's registry has changed since the memo was filled, and it is a 401 when the
    /// caller's key (`keyID`) is revoked in the snapshot (the key cache may not have heard
    /// yet of a revocation made through another server process). On a replica, the key was
    /// checked on the primary before the read (`ReplicaReads`): a key made a moment ago may
    /// not have reached the replica yet, and must not pass for revoked.
    func stamp(_ connection: Connection, keyID: String) throws -> Stamp? {
        let (snapshot, version, live) = try connection.query(
            """
            SELECT pg_current_snapshot()::text, version,
                   pg_is_in_recovery() OR EXISTS (SELECT FROM api_keys WHERE id = \(keyID) AND revoked_at IS NULL)
            FROM registry_version
            """)[0].decode((String, Int, Bool).self)
        guard live else { throw Authenticator.unknownOrRevoked }
        registry.follow(version)
        guard capacityBytes > 0, let generation = registry.trustedGeneration else { return nil }
        return Stamp(snapshot: snapshot, registryGeneration: generation)
    }

    /// The response kept for `key` when it was rendered at `stamp`.
    func response(for key: Key, at stamp: Stamp) -> HTTPResponse? {
        state.withLockedValue { $0.stamp == stamp ? $0.responses[key] : nil }
    }

    /// Keeps `response` for `key`, rendered at `stamp`; responses of other stamps go.
    func keep(_ response: HTTPResponse, for key: Key, at stamp: Stamp) {
        let size = Self.size(response, key)
        guard response.status == .ok, response.stream == nil, size <= capacityBytes / 8 else { return }
        state.withLockedValue { state in
            if state.stamp != stamp || state.bytes + size > capacityBytes {
                state = State(stamp: stamp)
            }
            state.bytes += size - (state.responses[key].map { Self.size($0, key) } ?? 0)
            state.responses[key] = response
        }
    }

    /// What a kept response counts against the capacity: its body and its key (many small
    /// reports asked by distinct long queries must not grow memory past it either), and
    /// what holding any one costs besides.
    static func size(_ response: HTTPResponse, _ key: Key) -> Int {
        response.body.readableBytes + key.audience.utf8.count + key.path.utf8.count
            + key.query.reduce(0) { $0 + $1.utf8.count + 16 } + entryCost
    }

    /// The memory a kept response takes besides its body's and key's bytes: its slot in the
    /// dictionary (which grows by doubling), its headers, the buffer and the key's arrays and
    /// strings. Measured: 108,000 responses of 300 bytes under short distinct queries took
    /// 137 MiB, about 1 KiB each beyond their bodies; counted as 64 bytes, they passed for 64 MiB.
    static let entryCost = 1024

    /// How many responses are kept (for tests).
    var count: Int { state.withLockedValue { $0.responses.count } }
}
