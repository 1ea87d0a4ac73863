import ArgumentParser
import BackboneCore
import Foundation
import Postgres

/// Where the database is: `DATABASE_URL`, or else a private cluster in a data folder.
struct DatabaseOptions: ParsableArguments {
    @Option(
        help:
            "Folder of the embedded PostgreSQL used when DATABASE_URL is unset (env BACKBONE_DATA_DIR; default /var/lib/backbone/postgres as root, ~/.local/share/backbone/postgres otherwise)."
    )
    var dataDir: String?

    /// The data folder of the embedded cluster (flag, environment, default).
    var dataFolder: String {
        dataDir ?? ProcessInfo.processInfo.environment["BACKBONE_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? EmbeddedPostgres.defaultDataDirectory()
    }

    /// A connection string, the cluster to stop afterwards when the embedded one is in
    /// use, and a description of the database for messages (never a password).
    ///
    /// `serve` is its cluster's `owner` (see `EmbeddedPostgres`): it holds the data
    /// folder's lock, restarts a postmaster a killed serve left running, and is refused
    /// while another serve owns the folder. `migrate` and `keys` are not owners: they use
    /// a running serve's cluster as it is, and otherwise start it for their own run.
    ///
    /// `create: false` (the administration commands) refuses to initialise a cluster in
    /// an empty data folder: a key written into a new, empty cluster would never reach
    /// the server, so the person is told where Backbone looked instead.
    func resolve(
        owner: Bool = false, create: Bool = true, log: (String) -> Void = { _ in }
    ) throws -> (conninfo: String, embedded: EmbeddedPostgres?, description: String) {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            return (url, nil, "DATABASE_URL (\(Self.redacted(url)))")
        }
        let folder = dataFolder
        let description = "the embedded PostgreSQL in \(folder)"
        if !create,
            !FileManager.default.fileExists(
                atPath: URL(fileURLWithPath: folder).appendingPathComponent("PG_VERSION").path)
        {
            throw CommandFailure(
                """
                no Backbone database in \(folder) (DATABASE_URL is not set, so the embedded one was looked for there).
                Start the service once with `backbone serve` (it creates that database and prints a first key),
                or point this command at the service's database with --data-dir / BACKBONE_DATA_DIR, or DATABASE_URL.
                """)
        }
        let cluster: EmbeddedPostgres
        do {
            cluster = try EmbeddedPostgres(dataDirectory: URL(fileURLWithPath: folder))
        } catch {
            throw CommandFailure("cannot start \(description): \(error)")
        }
        do {
            let conninfo = try cluster.start(owner: owner, log: log)
            return (conninfo, cluster, description)
        } catch {
            cluster.stop()
            throw CommandFailure("cannot start \(description): \(error)")
        }
    }

    /// A connection string with any password hidden (`password=…`, `user:secret@`).
    static func redacted(_ conninfo: String) -> String {
        var text = conninfo
        if let range = text.range(of: #"password\s*=\s*('[^']*'|\S+)"#, options: .regularExpression) {
            text.replaceSubrange(range, with: "password=***")
        }
        if let range = text.range(of: #"://[^/@:]*:[^/@]*@"#, options: .regularExpression) {
            let user = text[range].dropFirst(3).prefix { $0 != ":" }
            text.replaceSubrange(range, with: "://\(user):***@")
        }
        return text
    }
}

/// A command's failure in words for the person who ran it (ArgumentParser prints it as `Error: …`).
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Runs a command's database work, saying which database was used when it fails.
func usingDatabase<T>(_ description: String, _ work: () throws -> T) throws -> T {
    do {
        return try work()
    } catch let failure as CommandFailure {
        throw CommandFailure("\(failure.description) (database: \(description))")
    } catch {
        throw CommandFailure("\(error) (database: \(description))")
    }
}
