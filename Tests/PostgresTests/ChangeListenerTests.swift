import Foundation
import Logging
import NIOConcurrencyHelpers
import Postgres
import TestSupport
import Testing

@Suite("Change listener")
struct ChangeListenerTests {
    /// Caches trust their values while the listener says it is listening, so every
    /// channel must be reported changed (the caches emptied) before it says so: at start
    /// and after a reconnect, when notifications may have been missed. Were it to say so
    /// first, a request in between would be given a value from before the gap.
    @Test func channelsAreReportedChangedBeforeListeningResumes() async throws {
        let conninfo = try TestDatabase.fresh()
        let channel = "listener_test"
        let heard = NIOLockedValueBox<[Bool]>([])
        let listenerBox = NIOLockedValueBox<ChangeListener?>(nil)
        let listener = ChangeListener(conninfo: conninfo, channels: [channel], logger: Logger(label: "test")) { _ in
            let listening = listenerBox.withLockedValue { $0 }?.isListening ?? true
            heard.withLockedValue { $0.append(listening) }
        }
        listenerBox.withLockedValue { $0 = listener }
        listener.start()
        defer { listener.stop() }
        try await Self.waitUntil("listening") { listener.isListening }
        #expect(heard.withLockedValue { $0 } == [false])

        // The listening connection lost: on reconnecting, the channel is reported changed
        // again, before listening resumes.
        let admin = try Connection(conninfo)
        let killed = try admin.query(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE \("LISTEN%\(channel)%")"
        )
        #expect(try killed[0].decode(Int.self, at: 0) == 1)
        // (Its second without listening can pass unseen while other tests hold the threads.)
        try await Self.waitUntil("listening again") { heard.withLockedValue { $0.count } == 2 && listener.isListening }
        #expect(heard.withLockedValue { $0 } == [false, false])
    }

    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(30)
        while !condition(), Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(condition(), "\(what)")
    }
}
