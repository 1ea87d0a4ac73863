import ArgumentParser
import BackboneCore

/// `backbone`: the shared-measurement service and its administration commands.
@main
struct BackboneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backbone",
        abstract: "Backbone: a shared-measurement data service for collective impact.",
        version: BackboneVersion.current,
        subcommands: [ServeCommand.self, MigrateCommand.self, KeysCommand.self]
    )
}
