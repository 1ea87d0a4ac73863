import Foundation

/// Finds the files the service ships beside its binary: `schema.sql` and `openapi.yaml`.
///
/// Looks in `BACKBONE_HOME` if set, then in the executable's folder and its parents (a
/// build in `.build/debug/` finds the checkout), then in the working directory.
public struct ProjectFiles: Sendable {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    /// Locates the folder holding `schema.sql`, or explains where it looked.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProjectFiles {
        var candidates: [URL] = []
        if let home = environment["BACKBONE_HOME"] { candidates.append(URL(fileURLWithPath: home)) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(folder)
            folder = folder.deletingLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("schema.sql").path) {
            return ProjectFiles(directory: candidate.standardizedFileURL)
        }
        throw ProjectFilesError(searched: candidates.map(\.path))
    }

    public var schemaURL: URL { directory.appendingPathComponent("schema.sql") }
    public var openAPIURL: URL { directory.appendingPathComponent("openapi.yaml") }

    public func schemaSQL() throws -> String { try String(contentsOf: schemaURL, encoding: .utf8) }
    public func openAPIYAML() throws -> Data { try Data(contentsOf: openAPIURL) }
}

public struct ProjectFilesError: Error, CustomStringConvertible {
    public let searched: [String]
    public var description: String {
        "cannot find schema.sql; set BACKBONE_HOME to the folder holding schema.sql and openapi.yaml (searched: \(searched.joined(separator: ", ")))"
    }
}
