import Foundation

/// Runs the built `backbone` executable the way a user would.
public enum BackboneProcess {
    /// The executable next to the test bundle (both live in the build's bin folder).
    public static var executable: URL {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("backbone")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/backbone")
    }

    /// The package folder (holding schema.sql and openapi.yaml).
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    public struct Outcome: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `backbone ARGS` to completion.
    public static func run(
        _ arguments: [String], environment: [String: String], executable: URL = executable, directory: URL? = nil
    ) async throws -> Outcome {
        let running = try launch(arguments, environment: environment, executable: executable, directory: directory)
        return try await onThread {
            running.process.waitUntilExit()
            return running.outcome()
        }
    }

    /// A running `backbone` whose output is captured in files.
    public final class Running: @unchecked Sendable {
        public let process: Process
        let stdoutURL: URL
        let stderrURL: URL

        init(process: Process, stdoutURL: URL, stderrURL: URL) {
            self.process = process
            self.stdoutURL = stdoutURL
            self.stderrURL = stderrURL
        }

        public func outcome() -> Outcome {
            Outcome(
                status: process.isRunning ? -1 : process.terminationStatus,
                stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "")
        }

        /// Sends a signal and waits up to `timeout` seconds for the exit; true if it exited.
        public func terminate(signal: Int32 = SIGTERM, timeout: Double = 20) async throws -> Bool {
            kill(process.processIdentifier, signal)
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            return !process.isRunning
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// Starts `backbone ARGS` without waiting (`executable` in the working directory `directory`).
    public static func launch(
        _ arguments: [String], environment: [String: String], executable: URL = executable, directory: URL? = nil
    ) throws -> Running {
        let process = Process()
        process.executableURL = executable
        if let directory { process.currentDirectoryURL = directory }
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = nil
        for (name, value) in environment { env[name] = value }
        process.environment = env
        let stdoutURL = FileManager.default.temporaryDirectory.appendingPathComponent("bb-\(UUID().uuidString).out")
        let stderrURL = FileManager.default.temporaryDirectory.appendingPathComponent("bb-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, stdoutURL: stdoutURL, stderrURL: stderrURL)
    }

    /// The port a `backbone serve --port 0` reports in its "listening" log line.
    public static func listeningPort(of running: Running, timeout: Double = 90) async throws -> Int? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, running.process.isRunning {
            for line in running.outcome().stderr.split(separator: "\n") where line.contains("listening") {
                if let colon = line.lastIndex(of: ":"),
                    let port = Int(line[line.index(after: colon)...].prefix { $0.isNumber })
                {
                    return port
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Polls `GET path` until it answers `status` or `timeout` passes.
    public static func waitFor(port: Int, path: String = "/healthz", status: Int = 200, timeout: Double = 60)
        async throws -> Bool
    {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let client = try? RawHTTPClient(port: port, timeout: 2),
                let response = try? await client.request("GET", path), response.status == status
            {
                return true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
