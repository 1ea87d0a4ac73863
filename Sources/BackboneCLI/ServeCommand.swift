import Aggregation
import ArgumentParser
import BackboneAPI
import BackboneCore
import Foundation
import HTTPServer
import Logging
import NIOCore
import Postgres
import ServiceLifecycle

/// `backbone serve`: runs the HTTP API until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API (database from DATABASE_URL, else an embedded PostgreSQL).")

    @Option(help: "Address to listen on (env HOST, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (env PORT, default 8080).")
    var port: Int?

    @Option(help: "Database connections (env DATABASE_POOL_SIZE, default 8).")
    var poolSize: Int?

    @Option(help: "Largest accepted request body in bytes (env MAX_BODY_BYTES, default 33554432).")
    var maxBodyBytes: Int?

    @Option(help: "Seconds a connection may stay silent, between or inside requests (env IDLE_TIMEOUT_SECONDS, default 30).")
    var idleTimeout: Int?

    @Option(help: "Reports withhold, from partner and viewer keys, a cell backed by fewer partners than this (env SUPPRESSION_MIN_PARTNERS, default 3).")
    var suppressionMinPartners: Int?

    @Option(help: "Reports withhold, from partner and viewer keys, a count below this (env SUPPRESSION_MIN_COUNT, default 5).")
    var suppressionMinCount: Double?

    @Option(help: "Reports withhold, from partner and viewer keys, a cell one partner contributes more than this share of (env SUPPRESSION_DOMINANCE, default 0.85).")
    var suppressionDominance: Double?

    @Option(help: "The protection interval of small-cell suppression, in percent of a withheld value (env SUPPRESSION_PROTECTION_PERCENT, default 10).")
    var suppressionProtectionPercent: Double?

    @Option(help: "The smallest protection interval, in the indicator's units (env SUPPRESSION_PROTECTION_MIN, default 2).")
    var suppressionProtectionMin: Double?

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = makeLogger(label: "backbone")
        var (conninfo, embedded) = try database.resolve(owner: true, log: { logger.notice("\($0)") })
        defer { embedded?.stop() }
        if embedded != nil { logger.info("using the embedded PostgreSQL", metadata: ["data_dir": "\(embedded!.dataDirectory.path)"]) }

        let pool = ConnectionPool(
            conninfo: conninfo, size: poolSize ?? environment["DATABASE_POOL_SIZE"].flatMap(Int.init) ?? 8,
            logger: logger)
        let startup = DatabaseStartup(pool: pool, migrate: embedded != nil, logger: logger)
        conninfo = ""

        let suppression = SuppressionPolicy(
            minPartners: suppressionMinPartners ?? environment["SUPPRESSION_MIN_PARTNERS"].flatMap(Int.init) ?? 3,
            minCount: suppressionMinCount ?? environment["SUPPRESSION_MIN_COUNT"].flatMap(Double.init) ?? 5,
            dominance: suppressionDominance ?? environment["SUPPRESSION_DOMINANCE"].flatMap(Double.init) ?? 0.85,
            protectionPercent: suppressionProtectionPercent ?? environment["SUPPRESSION_PROTECTION_PERCENT"].flatMap(Double.init) ?? 10,
            protectionMinimum: suppressionProtectionMin ?? environment["SUPPRESSION_PROTECTION_MIN"].flatMap(Double.init) ?? 2)
        let app = BackboneApp(pool: pool, logger: logger, suppression: suppression)
        let configuration = HTTPServerConfiguration(
            host: host ?? environment["HOST"] ?? "127.0.0.1",
            port: port ?? environment["PORT"].flatMap(Int.init) ?? 8080,
            maxBodySize: maxBodyBytes ?? environment["MAX_BODY_BYTES"].flatMap(Int.init) ?? 32 * 1024 * 1024,
            idleTimeout: .seconds(Int64(idleTimeout ?? environment["IDLE_TIMEOUT_SECONDS"].flatMap(Int.init) ?? 30)))
        let server = HTTPServer(configuration: configuration, router: try app.router(), policy: app.policy(), logger: logger)
        app.start()
        defer { app.stop() }
        var services: [any Service] = [server, startup]
        if let embedded { services.append(EmbeddedPostgresSupervisor(cluster: embedded, logger: logger)) }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try await pool.close()
    }
}

/// A logger at `LOG_LEVEL` (default info).
func makeLogger(label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    return logger
}
