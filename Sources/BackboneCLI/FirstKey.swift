import BackboneCore
import Foundation
import Postgres

/// The first run of an embedded database: with no key yet, a coordinator key is made
/// and printed once with the next command to try, as Jupyter prints its token, so a
/// newcomer needs nothing but `backbone serve` to make the first call.
enum FirstKey {
    static func issueIfNone(_ connection: Connection, address: String, database: String) throws {
        let count = try connection.query("SELECT count(*) FROM api_keys")[0].decode(Int.self, at: 0)
        guard count == 0 else { return }
        let issued = try APIKeys.create(connection, role: .coordinator, partner: nil, name: "first coordinator key")
        let message = """

            Backbone is ready at \(address) (database: \(database)).
            This first coordinator key (\(issued.key.id)) is shown only now; keep it somewhere safe:

                \(issued.secret)

            Try it:
                curl -H "Authorization: Bearer \(issued.secret)" \(address)/v1/agendas

            More keys: backbone keys create --role coordinator|partner|viewer [--partner ID] [--name TEXT]
            (run it as the same user, or with the same --data-dir, to reach this database; `backbone keys list` shows them all)

            """
        FileHandle.standardOutput.write(Data(message.utf8))
    }
}
