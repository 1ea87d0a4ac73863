import Foundation
import NIOConcurrencyHelpers

/// Dashboard sign-ins, kept on the server: the browser holds only a random session id in
/// an HttpOnly cookie; the key it stands for never leaves the server again.
///
/// A session ends when it has been idle for `idle`, `lifetime` after sign-in, on sign-out,
/// or as soon as its key stops authenticating (the routes check the key on every request
/// through the same authenticator and cache as the API, so revoking the key ends every
/// session signed in with it). Sessions live in this process's memory: a restart signs
/// everybody out, and several server processes need sticky sessions or a new sign-in
/// (deploy/haproxy.cfg sticks a session cookie to its node).
final class DashboardSessions: Sendable {
    struct Session: Sendable {
        var secret: String
        var created: ContinuousClock.Instant
        var lastSeen: ContinuousClock.Instant
    }

    static let cookieName = "backbone_session"

    let lifetime: Duration
    let idle: Duration
    let capacity: Int
    private let sessions = NIOLockedValueBox([String: Session]())

    init(lifetime: Duration = .seconds(8 * 3600), idle: Duration = .seconds(3600), capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.idle = idle
        self.capacity = capacity
    }

    /// Starts a session for a key that has just authenticated; returns its id for the cookie.
    func create(secret: String) -> String {
        let id = Self.randomID()
        let now = ContinuousClock.now
        sessions.withLockedValue { sessions in
            if sessions.count >= capacity {
                sessions = sessions.filter { !isExpired($0.value, now: now) }
                if sessions.count >= capacity, let oldest = sessions.min(by: { $0.value.lastSeen < $1.value.lastSeen })
                {
                    sessions[oldest.key] = nil
                }
            }
            sessions[id] = Session(secret: secret, created: now, lastSeen: now)
        }
        return id
    }

    /// The key secret behind a live session (and marks it used); `nil` (and forgotten) once expired.
    func secret(for id: String) -> String? {
        let now = ContinuousClock.now
        return sessions.withLockedValue { sessions in
            guard let session = sessions[id] else { return nil }
            guard !isExpired(session, now: now) else {
                sessions[id] = nil
                return nil
            }
            sessions[id]?.lastSeen = now
            return session.secret
        }
    }

    func end(_ id: String) {
        _ = sessions.withLockedValue { $0.removeValue(forKey: id) }
    }

    var count: Int { sessions.withLockedValue { $0.count } }

    private func isExpired(_ session: Session, now: ContinuousClock.Instant) -> Bool {
        now - session.created > lifetime || now - session.lastSeen > idle
    }

    /// 32 random bytes from the system's secure generator, URL-safe base64.
    static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
                of: "=", with: "")
    }
}
