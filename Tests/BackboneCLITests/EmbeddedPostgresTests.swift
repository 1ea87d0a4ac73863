import Foundation
import TestSupport
import Testing

/// `serve` owns its embedded PostgreSQL: a cluster left behind by a killed serve is taken
/// over and stopped on exit, and a crashed postmaster is started again. Real processes.
@Suite("The embedded PostgreSQL's lifecycle", .serialized)
struct EmbeddedPostgresTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bbl-\(UUID().uuidString.prefix(8))")

    func serve() async throws -> (BackboneProcess.Running, Int) {
        let server = try BackboneProcess.launch(
            ["serve", "--port", "0"], environment: ["BACKBONE_DATA_DIR": folder.path])
        let port = try #require(try await BackboneProcess.listeningPort(of: server), "\(server.outcome().stderr)")
        #expect(
            try await BackboneProcess.waitFor(port: port, path: "/readyz", timeout: 90), "\(server.outcome().stderr)")
        return (server, port)
    }

    /// The postmaster's process id, from its lock file; nil when there is none.
    func postmaster() -> pid_t? {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("postmaster.pid"), encoding: .utf8),
            let first = text.split(separator: "\n").first
        else { return nil }
        return pid_t(first)
    }

    /// Whether the process runs (a zombie, dead but not yet reaped, does not).
    func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    func waitUntilGone(_ pid: pid_t, timeout: Double = 30) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while isAlive(pid), Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        return !isAlive(pid)
    }

    func cleanUp() {
        if let pid = postmaster(), isAlive(pid) { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func aClusterLeftByAKilledServeIsTakenOverAndStoppedOnExit() async throws {
        defer { cleanUp() }
        let (first, _) = try await serve()
        let leftover = try #require(postmaster())
        // (Foundation's Process may never notice this exit, the postmaster living on: /proc does.)
        kill(first.process.processIdentifier, SIGKILL)
        #expect(try await waitUntilGone(first.process.processIdentifier))
        #expect(isAlive(leftover), "a killed serve leaves its postmaster running")

        // A second serve of the same folder while one runs is refused.
        let (second, port) = try await serve()
        let restarted = try #require(postmaster())
        #expect(restarted != leftover, "the leftover postmaster is restarted under the new serve")
        #expect(try await waitUntilGone(leftover))
        let third = try await BackboneProcess.run(
            ["serve", "--port", "0"], environment: ["BACKBONE_DATA_DIR": folder.path])
        #expect(third.status != 0)
        #expect(third.stderr.contains("another `backbone serve` is running"), "\(third.stderr)")
        #expect(try await RawHTTPClient(port: port).request("GET", "/readyz").status == 200)

        #expect(try await second.terminate(signal: SIGTERM, timeout: 60))
        #expect(second.process.terminationStatus == 0, "\(second.outcome().stderr)")
        #expect(try await waitUntilGone(restarted), "a clean SIGTERM stops the cluster it took over")
        #expect(postmaster() == nil)
    }

    @Test func aCrashedPostmasterIsStartedAgainAndAnImmediateRestartWorks() async throws {
        defer { cleanUp() }
        let (server, port) = try await serve()
        let original = try #require(postmaster())
        kill(original, SIGKILL)
        // The supervisor notices within a second or two and starts the cluster again.
        let deadline = Date().addingTimeInterval(60)
        var recovered: pid_t?
        while Date() < deadline {
            if let pid = postmaster(), pid != original, isAlive(pid),
                (try? await RawHTTPClient(port: port, timeout: 2).request("GET", "/readyz"))?.status == 200
            {
                recovered = pid
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let running = try #require(recovered, "\(server.outcome().stderr)")

        // Killed again and serve restarted at once: the new serve starts the cluster anyway.
        kill(running, SIGKILL)
        #expect(try await server.terminate(signal: SIGTERM, timeout: 60))
        #expect(server.process.terminationStatus == 0, "\(server.outcome().stderr)")
        let (again, againPort) = try await serve()
        #expect(try await RawHTTPClient(port: againPort).request("GET", "/readyz").status == 200)
        let last = try #require(postmaster())
        #expect(try await again.terminate(signal: SIGTERM, timeout: 60))
        #expect(again.process.terminationStatus == 0)
        #expect(try await waitUntilGone(last))
    }
}
