import Foundation
import Postgres

/// A private PostgreSQL cluster in a data folder, for running Backbone with no setup.
///
/// It listens on a unix socket inside its data folder only (no TCP port), trusts local
/// connections (the folder is private), and runs as the `postgres` user when we are
/// root, because PostgreSQL refuses to run as root.
struct EmbeddedPostgres {
    let dataDirectory: URL
    let binDirectory: URL
    let runAsUser: String?
    /// Whether this process started the server (and so should stop it).
    private(set) var startedByUs = false

    static let databaseName = "backbone"
    static let superuser = "backbone"

    init(dataDirectory: URL) throws {
        self.dataDirectory = dataDirectory.standardizedFileURL
        binDirectory = try Self.locateBinaries()
        runAsUser = geteuid() == 0 ? "postgres" : nil
        // A unix socket path is limited to 107 bytes.
        guard socketDirectory.path.utf8.count < 90 else {
            throw EmbeddedPostgresError("the data folder path \(socketDirectory.path) is too long for a unix socket; choose a shorter --data-dir")
        }
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

    /// Creates the cluster if needed, starts it unless it runs already, creates the database.
    mutating func start() throws -> String {
        let files = FileManager.default
        try files.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dataDirectory.path)
        if let runAsUser {
            try run("/bin/chown", ["-R", "\(runAsUser):\(runAsUser)", dataDirectory.path], asUser: nil)
        }
        if !files.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) {
            try run(tool("initdb"), ["-D", dataDirectory.path, "-U", Self.superuser, "-A", "trust", "-E", "UTF8", "--locale=C"])
        }
        if (try? run(tool("pg_ctl"), ["-D", dataDirectory.path, "status"])) == nil {
            let options = "-c listen_addresses='' -k \(socketDirectory.path)"
            try run(tool("pg_ctl"), [
                "-D", dataDirectory.path, "-l", dataDirectory.appendingPathComponent("server.log").path,
                "-w", "-t", "60", "-o", options, "start",
            ])
            startedByUs = true
        }
        let admin = try Connection("host=\(socketDirectory.path) dbname=postgres user=\(Self.superuser)")
        let exists = try admin.query("SELECT 1 FROM pg_database WHERE datname = \(Self.databaseName)")
        if exists.isEmpty { try admin.execute("CREATE DATABASE \(quoteIdentifier(Self.databaseName))") }
        return conninfo
    }

    /// Stops the cluster if this process started it.
    func stop() {
        guard startedByUs else { return }
        _ = try? run(tool("pg_ctl"), ["-D", dataDirectory.path, "-m", "fast", "-w", "stop"])
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
        candidates += versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { debian.appendingPathComponent($0).appendingPathComponent("bin") }
        for folder in candidates {
            let initdb = folder.appendingPathComponent("initdb").resolvingSymlinksInPath()
            if files.isExecutableFile(atPath: initdb.path) { return initdb.deletingLastPathComponent() }
        }
        throw EmbeddedPostgresError(
            "the PostgreSQL server programs (initdb, pg_ctl) are not installed; install them with `apt-get install postgresql`, or set DATABASE_URL to use an existing server")
    }
}

struct EmbeddedPostgresError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
