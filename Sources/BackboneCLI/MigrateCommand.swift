import ArgumentParser
import BackboneCore
import Foundation
import Postgres

/// `backbone migrate`: brings the database to this build's schema; a no-op when current.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract:
            "Bring the database to this build's schema (schema.sql, or the migrations after its version) and record it."
    )

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        var (conninfo, embedded, description) = try database.resolve()
        defer { embedded?.stop() }
        FileHandle.standardError.write(Data("database: \(description)\n".utf8))
        let outcome = try usingDatabase(description) {
            let connection = try Connection(conninfo)
            conninfo = ""
            return try Schema.migrate(connection)
        }
        switch outcome {
        case .alreadyCurrent(let version):
            print("schema is current (version \(version)); nothing to do")
        case .migrated(let from, let to):
            print("migrated schema from version \(from) to \(to)")
        }
    }
}
