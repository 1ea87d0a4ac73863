import ArgumentParser
import BackboneCore
import Foundation
import Postgres

/// `backbone keys …`: API key administration from the command line.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys.", subcommands: [Create.self])

    /// `backbone keys create`: prints a new key's secret (once) on standard output.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key; its secret is printed once on standard output and only a hash is stored.")

        @Option(help: "coordinator, partner or viewer.")
        var role: Role

        @Option(help: "The partner id a partner key is bound to (required for --role partner).")
        var partner: String?

        @Option(help: "A label to recognise the key by.")
        var name: String?

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            if role == .partner, partner == nil { throw ValidationError("--role partner needs --partner ID") }
            if role != .partner, partner != nil { throw ValidationError("--partner is only for --role partner") }
        }

        func run() async throws {
            var (conninfo, embedded) = try database.resolve()
            defer { embedded?.stop() }
            let connection = try Connection(conninfo)
            conninfo = ""
            try Schema.verify(connection)
            let issued = try APIKeys.create(connection, role: role, partner: partner, name: name)
            FileHandle.standardError.write(
                Data("created \(issued.key.role.rawValue) key \(issued.key.id); the secret below is shown only now\n".utf8))
            print(issued.secret)
        }
    }
}

extension Role: ExpressibleByArgument {}
