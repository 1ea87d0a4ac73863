import CLibPQ
import Dispatch
import NIOConcurrencyHelpers

/// Cancels the statement a lent connection is running when the task that borrowed it is
/// cancelled (its client went away, or its time budget ran out), so the database stops
/// working for nobody and the connection comes back within a round trip.
///
/// Armed with the connection's `PGcancel` while the borrower's work runs, disarmed when it
/// ends. A cancel that arrives before the work starts stops it from starting; one that
/// arrives after it ended does nothing. libpq's `PQcancel` opens a connection of its own
/// and waits for the server, so it runs on a global queue, never on the caller's thread
/// (an event loop).
final class StatementCanceller: @unchecked Sendable {
    private let cancel: OpaquePointer

    init(_ cancel: OpaquePointer) {
        self.cancel = cancel
    }

    deinit {
        PQfreeCancel(cancel)
    }

    /// Asks the server to cancel whatever the connection runs now.
    func send() {
        var message = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &message, Int32(message.count))
    }
}

/// One loan of a connection, as far as cancellation is concerned.
final class ConnectionLoan: Sendable {
    private enum State {
        case waiting
        case running(StatementCanceller)
        case cancelled
        case done
    }

    private let state = NIOLockedValueBox(State.waiting)

    /// Whether the borrower was cancelled while it held the connection (or before it
    /// used it): such a connection may still receive the cancel, so it is not lent again.
    var wasCancelled: Bool {
        state.withLockedValue { if case .cancelled = $0 { true } else { false } }
    }

    /// The work starts; `false` when it was cancelled already and must not.
    func start(_ canceller: StatementCanceller?) -> Bool {
        state.withLockedValue { state in
            guard case .waiting = state else { return false }
            state = canceller.map { .running($0) } ?? .waiting
            return true
        }
    }

    /// The work ended.
    func end() {
        state.withLockedValue { state in
            if case .running = state { state = .done }
        }
    }

    /// The borrower was cancelled.
    func cancel() {
        let running: StatementCanceller? = state.withLockedValue { state in
            defer { if case .done = state {} else { state = .cancelled } }
            if case .running(let canceller) = state { return canceller }
            return nil
        }
        guard let running else { return }
        DispatchQueue.global().async { running.send() }
    }
}
