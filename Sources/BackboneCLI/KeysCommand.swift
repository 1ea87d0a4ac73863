import ArgumentParser
import BackboneCore
import Foundation
import Postgres
import UTCTime

/// `backbone keys …`: API key administration from the command line.
///
/// Without DATABASE_URL it uses the embedded database in the same default data folder
/// as `backbone serve`, so it finds a running service's database by itself; it says on
/// standard error which database it used, and never creates one.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys.", subcommands: [Create.self, List.self, Revoke.self])

    /// Opens the command's database and runs `work` on it, naming the database on standard error.
    static func withDatabase<T>(_ options: DatabaseOptions, _ work: (Connection) throws -> T) throws -> T {
        var (conninfo, embedded, description) = try options.resolve(create: false)
        defer { embedded?.stop() }
        FileHandle.standardError.write(Data("database: \(description)\n".utf8))
        return try usingDatabase(description) {
            let connection = try Connection(conninfo)
            conninfo = ""
            try Schema.verify(connection)
            return try work(connection)
        }
    }

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
            let issued = try KeysCommand.withDatabase(database) { connection -> IssuedAPIKey in
                if let partner, try connection.query("SELECT 1 FROM partners WHERE id = \(partner)").isEmpty {
                    throw CommandFailure("no partner \(partner); create it first (POST /v1/partners) or check the id")
                }
                return try APIKeys.create(connection, role: role, partner: partner, name: name)
            }
            FileHandle.standardError.write(
                Data(
                    "created \(issued.key.role.rawValue) key \(issued.key.id); the secret below is shown only now\n"
                        .utf8))
            print(issued.secret)
        }
    }

    /// `backbone keys list`: every key, without secrets.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List API keys (id, role, partner, name, created, revoked); never their secrets.")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let keys = try KeysCommand.withDatabase(database) { connection in
                try APIKeys.list(connection, after: nil, limit: 100_000)
            }
            let rows =
                [["ID", "ROLE", "PARTNER", "NAME", "CREATED", "REVOKED"]]
                + keys.map { key in
                    [
                        key.id, key.role.rawValue, key.partner ?? "-", key.name ?? "-", Self.day(key.createdAt),
                        key.revokedAt.map(Self.day) ?? "-",
                    ]
                }
            let widths = (0..<6).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                let padded = row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                }
                print(padded.joined(separator: "  "))
            }
        }

        static func day(_ date: Date) -> String {
            UTCTimestamp.string(seconds: Int(date.timeIntervalSince1970.rounded(.down)))
        }
    }

    /// `backbone keys revoke ID`: the key stops authenticating at once.
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an API key by its id (see `backbone keys list`); it stops working at once.")

        @Argument(help: "The key's id, such as key_AbC123.")
        var id: String
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let key = try KeysCommand.withDatabase(database) { connection -> APIKey in
                guard let key = try APIKeys.revoke(connection, id: id) else {
                    throw CommandFailure("no key \(id); `backbone keys list` shows the ids")
                }
                return key
            }
            print("revoked \(key.role.rawValue) key \(key.id)\(key.name.map { " (\($0))" } ?? "")")
        }
    }
}

extension Role: ExpressibleByArgument {}
