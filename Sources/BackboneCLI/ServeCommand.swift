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
    @Option(help: "Port to listen on, 0 for any free one (env PORT, default 8080).")
    var port: Int?
    @Option(help: "Database connections, 1 to 500 (env DATABASE_POOL_SIZE, default 8).")
    var poolSize: Int?
    @Option(help: "Largest accepted request body in bytes (env MAX_BODY_BYTES, default 33554432).")
    var maxBodyBytes: Int?
    @Option(
        help: "Seconds a connection may stay silent, between or inside requests (env IDLE_TIMEOUT_SECONDS, default 30)."
    )
    var idleTimeout: Int?
    @Option(
        help:
            "Seconds one request may take, and one database statement, before it is cancelled with 503 (env REQUEST_BUDGET_SECONDS, default 60)."
    )
    var requestBudget: Int?
    @Option(
        help:
            "Seconds requests in flight may still finish after SIGTERM before their connections close (env SHUTDOWN_GRACE_SECONDS, default 10)."
    )
    var shutdownGrace: Int?
    @Option(
        help:
            "Reports withhold, from partner and viewer keys, a cell backed by fewer partners than this (env SUPPRESSION_MIN_PARTNERS, default 3)."
    )
    var suppressionMinPartners: Int?
    @Option(
        help:
            "Reports withhold, from partner and viewer keys, a count below this (env SUPPRESSION_MIN_COUNT, default 5)."
    )
    var suppressionMinCount: Double?
    @Option(
        help:
            "Reports withhold, from partner and viewer keys, a cell one partner contributes more than this share of (env SUPPRESSION_DOMINANCE, default 0.85)."
    )
    var suppressionDominance: Double?
    @Option(
        help:
            "The protection interval of small-cell suppression, in percent of a withheld value (env SUPPRESSION_PROTECTION_PERCENT, default 10)."
    )
    var suppressionProtectionPercent: Double?
    @Option(
        help: "The smallest protection interval, in the indicator's units (env SUPPRESSION_PROTECTION_MIN, default 2).")
    var suppressionProtectionMin: Double?
    @Option(
        help:
            "Days after a period ends until it is released to partners and viewers when the coordinator has not (env RELEASE_AFTER_DAYS, default 45; an agenda's release_after_days wins)."
    )
    var releaseAfterDays: Int?
    @Option(
        help:
            "Days before a committed cell is due that its partner gets a reminder.due event (env REMINDER_DAYS_BEFORE, default 7)."
    )
    var reminderDaysBefore: Int?
    @Option(
        help:
            "Seconds between two rounds of reminders and overdue digests (env REMINDER_INTERVAL_SECONDS, default 300)."
    )
    var reminderInterval: Int?
    @Option(
        help:
            "Whether submissions are checked for outliers and validation rules: on or off (env QUALITY_CHECKS, default on)."
    )
    var qualityChecks: String?
    @Option(
        help:
            "Whether stored batches write measurements.submitted and measurements.corrected events: on or off (env SUBMISSION_EVENTS, default on)."
    )
    var submissionEvents: String?
    @Option(
        help:
            "How many robust deviations from its series' history make a value an outlier (env OUTLIER_THRESHOLD, default 3)."
    )
    var outlierThreshold: Double?
    @Option(
        help:
            "How many earlier values among the last 12 periods a value needs to be scored (env OUTLIER_MIN_HISTORY, default 12)."
    )
    var outlierMinHistory: Int?
    @Option(
        help:
            "Whether webhook URLs may resolve to loopback, private, link-local and other non-public addresses: on or off (env WEBHOOK_ALLOW_PRIVATE_NETWORKS, default off)."
    )
    var webhookAllowPrivateNetworks: String?
    @Option(
        help:
            "Multiplies the webhook retry schedule's delays, 0.0001 to 1000 (env WEBHOOK_RETRY_SCALE, default 1)."
    )
    var webhookRetryScale: Double?
    @Option(
        help: "Seconds one webhook attempt may take, connecting included (env WEBHOOK_TIMEOUT_SECONDS, default 15).")
    var webhookTimeout: Int?
    @Option(
        help:
            "Days finished webhook deliveries and delivered events are kept (env WEBHOOK_RETENTION_DAYS, default 30)."
    )
    var webhookRetentionDays: Int?
    @OptionGroup var database: DatabaseOptions

    func validate() throws {
        _ = try Settings(self)
    }

    func run() async throws {
        FreedMemoryReturn.limitArenas()
        let settings = try Settings(self)
        let logger = makeLogger(label: "backbone")
        var (conninfo, embedded, description) = try database.resolve(owner: true, log: { logger.notice("\($0)") })
        defer { embedded?.stop() }
        logger.info("database", metadata: ["database": "\(description)"])
        let budget = Duration.seconds(settings.requestBudgetSeconds)
        let pool = ConnectionPool(conninfo: conninfo, size: settings.poolSize, statementTimeout: budget, logger: logger)
        conninfo = ""
        let replica = settings.replicaURL.map {
            ConnectionPool(conninfo: $0, size: settings.poolSize, statementTimeout: budget, logger: logger)
        }
        if let url = settings.replicaURL {
            guard embedded == nil else {
                throw CommandFailure("DATABASE_REPLICA_URL needs DATABASE_URL: the embedded PostgreSQL has no replica")
            }
            logger.info("replica", metadata: ["replica": "\(DatabaseOptions.redacted(url))"])
        }
        let suppression = SuppressionPolicy(
            minPartners: settings.suppressionMinPartners, minCount: settings.suppressionMinCount,
            dominance: settings.suppressionDominance, protectionPercent: settings.suppressionProtectionPercent,
            protectionMinimum: settings.suppressionProtectionMin)
        let app = BackboneApp(
            pool: pool, logger: logger, suppression: suppression, quality: settings.quality,
            webhooks: settings.webhooks,
            submissionEvents: settings.submissionEvents, replica: replica
        )
        let configuration = HTTPServerConfiguration(
            host: settings.host, port: settings.port, maxBodySize: settings.maxBodyBytes,
            idleTimeout: .seconds(Int64(settings.idleTimeoutSeconds)), requestBudget: budget,
            shutdownGrace: .seconds(Int64(settings.shutdownGraceSeconds)))
        let server = HTTPServer(
            configuration: configuration, router: app.router(), problems: app.problems, logger: logger,
            metrics: app.metrics,
            requestLog: RequestLog(format: settings.logFormat, enabled: settings.logLevel <= .info))
        // Bind before anything else runs, so a port in use is a clear message and exit status 1.
        do {
            try await server.start()
        } catch let error as HTTPServerError {
            throw CommandFailure(error.description)
        }
        let databaseName = description
        let port = server.localAddress?.port ?? settings.port
        let address = "http://\(settings.host.contains(":") ? "[\(settings.host)]" : settings.host):\(port)"
        var startup = DatabaseStartup(pool: pool, migrate: embedded != nil, logger: logger)
        if embedded != nil {
            startup.onReady = { connection in
                try FirstKey.issueIfNone(connection, address: address, database: databaseName)
            }
        }
        app.start()
        defer { app.stop() }
        let releases = AutomaticReleases(
            pool: pool, afterDays: settings.releaseAfterDays, policy: suppression, logger: logger)
        let reminders = ReminderRounds(
            pool: pool, daysBefore: settings.reminderDaysBefore,
            interval: .seconds(settings.reminderIntervalSeconds), logger: logger)
        let webhooks = WebhookDeliveries(
            pool: pool, settings: settings.webhooks, metrics: WebhookMetrics(factory: app.metrics.factory),
            logger: logger)
        var services: [any Service] = [
            server, startup, releases, reminders, webhooks, FreedMemoryReturn(logger: logger),
        ]
        if let embedded { services.append(EmbeddedPostgresSupervisor(cluster: embedded, logger: logger)) }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as Schema.SchemaError {
            throw CommandFailure("\(error) (database: \(databaseName))")
        }
        try await pool.close()
        try await replica?.close()
    }
}

/// A logger at `LOG_LEVEL` (default info) whose lines follow `LOG_FORMAT` (text or json).
func makeLogger(label: String) -> Logger {
    let (level, format) = (try? Settings.logging()) ?? (.info, .text)
    LoggingBootstrap.once(format: format, level: level)
    var logger = Logger(label: label)
    logger.logLevel = level
    return logger
}

/// swift-log may be bootstrapped once per process.
enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false

    static func once(format: LogFormat, level: Logger.Level) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in BackboneLogHandler(label: label, format: format, level: level) }
    }
}
