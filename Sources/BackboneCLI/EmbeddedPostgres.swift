import Foundation
import Postgres

/// A private PostgreSQL cluster in a data folder, for running Backbone with no setup.
///
/// It listens on a unix socket inside its data folder only (no TCP port), trusts local
/// connections (the folder is private), and runs as the `postgres` user when we are
/// root, because PostgreSQL refuses to run as root.
///
/// `serve` owns the cluster's whole lifecycle. It holds an exclusive `flock` on the data
/// folder for as long as it runs (the kernel drops it when the process dies, even by
/// `kill -9`), so a postmaster found running when the lock is free is a leftover of a
/// serve that died: it is stopped and started again under this one. A postmaster that
/// crashes while serve runs is started again (`superviseCluster`), and the cluster is
/// stopped when serve exits. `migrate` and `keys` use the cluster as they find it when a
/// serve owns it, and otherwise start it for their own run and stop it afterwards.
final class EmbeddedPostgres: @unchecked Sendable {
    let dataDirectory: URL
    let binDirectory: URL
    let runAsUser: String?
    /// Whether this process started the server (and so should stop it).
    private(set) var startedByUs = false
    /// The open data folder whose `flock` says who manages the cluster; -1 when not held.
    private var lockDescriptor: Int32 = -1
    /// Set when serve shuts down: a recovery in progress gives up instead of retrying.
    private let abandoned = NSLock()
    private var isAbandoned = false

    /// Makes a recovery in progress stop retrying (serve is shutting down).
    func abandonRecovery() {
        abandoned.withLock { isAbandoned = true }
    }

    static let databaseName = "backbone"
    static let superuser = "backbone"

    init(dataDirectory: URL) throws {
        self.dataDirectory = dataDirectory.standardizedFileURL
        binDirectory = try Self.locateBinaries()
        runAsUser = geteuid() == 0 ? "postgres" : nil
        // A unix socket path is limited to 107 bytes.
        guard socketDirectory.path.utf8.count < 90 else {
            throw EmbeddedPostgresError(
                "the data folder path \(socketDirectory.path) is too long for a unix socket; choose a shorter --data-dir"
            )
        }
    }

    deinit {
        if lockDescriptor >= 0 { close(lockDescriptor) }
    }

    static func defaultDataDirectory() -> String {
        if geteuid() == 0 { return "/var/lib/backbone/postgres" }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? FileManager.default.currentDirectoryPath
        return home + "/.local/share/backbone/postgres"
    }

    var socketDirectory: URL { dataDirectory }

    /// The libpq connection string for the cluster's `backbone` database.
    var conninfo: String {
        "host=\(socketDirectory.path) dbname=\(Self.databaseName) user=\(Self.superuser)"
    }

    /// Creates the cluster if needed and makes sure it runs, then creates the database.
    /// As `owner` (serve), a cluster left running by a serve that died is restarted under
    /// this process, and another live serve of the same folder is an error.
    func start(owner: Bool, log: (String) -> Void = { _ in }) throws -> String {
        let files = FileManager.default
        try files.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dataDirectory.path)
        if let runAsUser {
            try run("/bin/chown", ["-R", "\(runAsUser):\(runAsUser)", dataDirectory.path], asUser: nil)
        }
        let manages = try lock(wait: false)
        if owner, !manages {
            throw EmbeddedPostgresError(
                "another `backbone serve` is running with the data folder \(dataDirectory.path); stop it first, or choose another --data-dir"
            )
        }
        if !manages {
            // A live serve owns the cluster (and restarts it if it crashed): use it as it is.
            try waitUntilAcceptingConnections(timeout: 60)
            return try createDatabase()
        }
        if !files.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) {
            try run(
                tool("initdb"),
                ["-D", dataDirectory.path, "-U", Self.superuser, "-A", "trust", "-E", "UTF8", "--locale=C"])
        }
        var started = false
        if isRunning() {
            if owner {
                // No live serve holds the lock, so whoever started this postmaster is gone.
                log("stopping the PostgreSQL a previous serve left running, to run it under this one")
                stopCluster()
                try startCluster(log: log)
            }
        } else {
            try startCluster(log: log)
            started = true
        }
        startedByUs = owner || started
        return try createDatabase()
    }

    /// Starts the cluster again if its postmaster is gone (crashed or killed); true if it did.
    func recoverIfDown(log: (String) -> Void) throws -> Bool {
        guard !postmasterIsAlive() else { return false }
        log("the embedded PostgreSQL is not running; starting it again")
        try startCluster(log: log)
        return true
    }

    /// Stops the cluster if this process started or adopted it, and releases the folder.
    func stop() {
        if startedByUs { stopCluster() }
        startedByUs = false
        if lockDescriptor >= 0 {
            close(lockDescriptor)
            lockDescriptor = -1
        }
    }

    /// Takes the data folder's exclusive lock (close-on-exec, so PostgreSQL never inherits
    /// it); false if another process holds it.
    private func lock(wait: Bool) throws -> Bool {
        if lockDescriptor >= 0 { return true }
        let descriptor = open(dataDirectory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw EmbeddedPostgresError("cannot open \(dataDirectory.path): \(String(cString: strerror(errno)))")
        }
        if flock(descriptor, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            close(descriptor)
            return false
        }
        lockDescriptor = descriptor
        return true
    }

    /// Whether `pg_ctl status` finds a running server for the folder.
    private func isRunning() -> Bool {
        (try? run(tool("pg_ctl"), ["-D", dataDirectory.path, "status"])) != nil
    }

    /// Whether the process named in `postmaster.pid` is alive (no subprocess needed).
    func postmasterIsAlive() -> Bool {
        guard
            let text = try? String(contentsOf: dataDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8),
            let line = text.split(separator: "\n").first, let pid = Int32(line.trimmingCharacters(in: .whitespaces)),
            pid > 0
        else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// `pg_ctl start`, tried again for up to a minute: after a postmaster crash its
    /// children can hold the shared memory for a moment, and the start fails meanwhile.
    private func startCluster(log: (String) -> Void) throws {
        let options = "-c listen_addresses='' -k \(socketDirectory.path)"
        let deadline = Date().addingTimeInterval(60)
        var attempt = 0
        while true {
            attempt += 1
            do {
                try run(
                    tool("pg_ctl"),
                    [
                        "-D", dataDirectory.path, "-l", dataDirectory.appendingPathComponent("server.log").path,
                        "-w", "-t", "60", "-o", options, "start",
                    ])
                try waitUntilAcceptingConnections(timeout: 30)
                return
            } catch {
                guard Date() < deadline, !abandoned.withLock({ isAbandoned }) else { throw error }
                if attempt == 1 { log("the embedded PostgreSQL did not start yet (\(error)); trying again") }
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    /// `pg_ctl stop`: fast (sessions are cut, the shutdown is clean), immediate if that hangs.
    private func stopCluster() {
        if (try? run(tool("pg_ctl"), ["-D", dataDirectory.path, "-m", "fast", "-w", "-t", "30", "stop"])) == nil,
            isRunning()
        {
            _ = try? run(tool("pg_ctl"), ["-D", dataDirectory.path, "-m", "immediate", "-w", "-t", "30", "stop"])
        }
    }

    private func waitUntilAcceptingConnections(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do {
                _ = try Connection(
                    "host=\(socketDirectory.path) dbname=postgres user=\(Self.superuser) connect_timeout=5")
                return
            } catch {
                guard Date() < deadline, !abandoned.withLock({ isAbandoned }) else { throw error }
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
    }

    private func createDatabase() throws -> String {
        let admin = try Connection("host=\(socketDirectory.path) dbname=postgres user=\(Self.superuser)")
        let exists = try admin.query("SELECT 1 FROM pg_database WHERE datname = \(Self.databaseName)")
        if exists.isEmpty { try admin.execute("CREATE DATABASE \(quoteIdentifier(Self.databaseName))") }
        return conninfo
    }

    private func tool(_ name: String) -> String {
        binDirectory.appendingPathComponent(name).path
    }

    @discardableResult
    private func run(_ executable: String, _ arguments: [String]) throws -> String {
        try run(executable, arguments, asUser: runAsUser)
    }

    @discardableResult
    private func run(_ executable: String, _ arguments: [String], asUser user: String?) throws -> String {
        if let user { return try Subprocess.run("/usr/sbin/runuser", ["-u", user, "--", executable] + arguments) }
        return try Subprocess.run(executable, arguments)
    }

    /// Finds `initdb` and `pg_ctl`: PATH's, then Debian's versioned folders, newest first.
    static func locateBinaries() throws -> URL {
        let files = FileManager.default
        var candidates: [URL] = []
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        candidates += path.split(separator: ":").map { URL(fileURLWithPath: String($0)) }
        let debian = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? files.contentsOfDirectory(atPath: debian.path)) ?? []
        candidates += versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map {
            debian.appendingPathComponent($0).appendingPathComponent("bin")
        }
        for folder in candidates {
            let initdb = folder.appendingPathComponent("initdb").resolvingSymlinksInPath()
            if files.isExecutableFile(atPath: initdb.path) { return initdb.deletingLastPathComponent() }
        }
        throw EmbeddedPostgresError(
            "the PostgreSQL server programs (initdb, pg_ctl) are not installed; install them with `apt-get install postgresql`, or set DATABASE_URL to use an existing server"
        )
    }
}

struct EmbeddedPostgresError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
