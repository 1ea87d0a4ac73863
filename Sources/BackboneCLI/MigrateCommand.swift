import ArgumentParser
import BackboneCore
import Postgres

/// `backbone migrate`: brings the database to this build's schema; a no-op when current.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Bring the database to this build's schema (schema.sql, or the migrations after its version) and record it.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        var (conninfo, embedded) = try database.resolve()
        defer { embedded?.stop() }
        let connection = try Connection(conninfo)
        conninfo = ""
        switch try Schema.migrate(connection) {
        case .alreadyCurrent(let version):
            print("schema is current (version \(version)); nothing to do")
        case .migrated(let from, let to):
            print("migrated schema from version \(from) to \(to)")
        }
    }
}
