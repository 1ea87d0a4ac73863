import CLibPQ
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Listens on PostgreSQL `NOTIFY` channels with a connection and a thread of its own,
/// so that caches in every server process hear of changes made by any of them.
///
/// While it is not connected (at start, or after losing the server) `isListening` is
/// false and callers must not trust their caches; after a reconnect every channel is
/// reported changed, since notifications may have been missed in between.
public final class ChangeListener: Sendable {
    public typealias Handler = @Sendable (_ channel: String) -> Void

    private let conninfo: String
    private let channels: [String]
    private let handler: Handler
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    private struct State {
        var listening = false
        var stopped = false
    }

    public init(conninfo: String, channels: [String], logger: Logger, handler: @escaping Handler) {
        self.conninfo = conninfo
        self.channels = channels
        self.logger = logger
        self.handler = handler
    }

    /// Whether notifications are being received right now.
    public var isListening: Bool { state.withLockedValue { $0.listening } }

    /// Starts the listening thread.
    public func start() {
        Thread.detachNewThread { [self] in run() }
    }

    /// Stops listening (within about a second).
    public func stop() {
        state.withLockedValue { $0.stopped = true }
    }

    private var stopped: Bool { state.withLockedValue { $0.stopped } }

    private func setListening(_ listening: Bool) {
        state.withLockedValue { $0.listening = listening }
    }

    private func run() {
        while !stopped {
            do {
                let connection = try Connection(conninfo)
                for channel in channels { try connection.execute("LISTEN \(quoteIdentifier(channel))") }
                // Caches are emptied before they are trusted again: in between, one could
                // give a value from before the gap.
                for channel in channels { handler(channel) }
                setListening(true)
                try receive(on: connection)
            } catch {
                logger.warning(
                    "change listener lost its connection; caches are bypassed until it is back",
                    metadata: ["error": "\(error)"])
            }
            setListening(false)
            if !stopped { Thread.sleep(forTimeInterval: 1) }
        }
    }

    private func receive(on connection: Connection) throws {
        let socket = PQsocket(connection.handle)
        while !stopped {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 1000)
            if ready < 0, errno != EINTR { throw PostgresError(.connection, "poll failed") }
            guard PQconsumeInput(connection.handle) == 1, PQstatus(connection.handle) == CONNECTION_OK else {
                throw PostgresError.connection(connection.handle, "listening connection lost")
            }
            while let notification = PQnotifies(connection.handle) {
                let channel = String(cString: notification.pointee.relname)
                PQfreemem(notification)
                handler(channel)
            }
        }
    }
}
