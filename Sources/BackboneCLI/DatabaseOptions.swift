import ArgumentParser
import BackboneCore
import Foundation
import Postgres

/// Where the database is: `DATABASE_URL`, or else a private cluster in a data folder.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Folder of the embedded PostgreSQL used when DATABASE_URL is unset (env BACKBONE_DATA_DIR; default /var/lib/backbone/postgres as root, ~/.local/share/backbone/postgres otherwise).")
    var dataDir: String?

    /// A connection string and, when the embedded cluster is in use, the cluster to stop
    /// afterwards. `serve` is its cluster's `owner` (see `EmbeddedPostgres`).
    func resolve(owner: Bool = false, log: (String) -> Void = { _ in }) throws -> (conninfo: String, embedded: EmbeddedPostgres?) {
        let environment = ProcessInfo.processInfo.environment
        if let url = environment["DATABASE_URL"], !url.isEmpty { return (url, nil) }
        let folder = dataDir ?? environment["BACKBONE_DATA_DIR"] ?? EmbeddedPostgres.defaultDataDirectory()
        let cluster = try EmbeddedPostgres(dataDirectory: URL(fileURLWithPath: folder))
        do {
            let conninfo = try cluster.start(owner: owner, log: log)
            return (conninfo, cluster)
        } catch {
            cluster.stop()
            throw error
        }
    }
}
