import ArgumentParser
import BackboneCore
import DataQuality
import Foundation
import HTTPServer
import Logging

/// Every setting of `backbone serve`, from its flag or else its environment variable or
/// else its default, checked once at start: a value out of range or unreadable stops
/// the command with a message naming the flag and the variable (today's README table
/// lists the same settings).
struct Settings {
    var host: String
    var port: Int
    var poolSize: Int
    var maxBodyBytes: Int
    var idleTimeoutSeconds: Int
    var requestBudgetSeconds: Int
    var shutdownGraceSeconds: Int
    var suppressionMinPartners: Int
    var suppressionMinCount: Double
    var suppressionDominance: Double
    var suppressionProtectionPercent: Double
    var suppressionProtectionMin: Double
    var releaseAfterDays: Int
    var reminderDaysBefore: Int
    var reminderIntervalSeconds: Int
    var qualityChecks: Bool
    var submissionEvents: Bool
    var outlierThreshold: Double
    var outlierMinHistory: Int
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var webhooks: WebhookSettings
    /// `DATABASE_REPLICA_URL`: a streaming replica for reads (docs/SCALING.md); nil: none.
    var replicaURL: String?

    init(_ command: ServeCommand, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        func integer(
            _ flag: Int?, _ name: String, _ variable: String, default value: Int, range: ClosedRange<Int>, unit: String
        ) throws -> Int {
            let (resolved, source) = try Self.value(flag, name, variable, environment, Int.init)
            let chosen = resolved ?? value
            guard range.contains(chosen) else {
                throw ValidationError(
                    "\(source ?? name) is \(chosen); it must be \(unit) from \(range.lowerBound) to \(range.upperBound)"
                )
            }
            return chosen
        }
        func onOff(_ flag: String?, _ name: String, _ variable: String, default value: Bool) throws -> Bool {
            let text = flag ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
            switch text {
            case nil: return value
            case "on": return true
            case "off": return false
            case let other?: throw ValidationError("\(flag == nil ? variable : name) is \(other); it must be on or off")
            }
        }
        replicaURL = environment["DATABASE_REPLICA_URL"].flatMap { $0.isEmpty ? nil : $0 }
        host = command.host ?? environment["HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = try integer(
            command.port, "--port", "PORT", default: 8080, range: 0...65535, unit: "a port number (0 picks a free one)")
        poolSize = try integer(
            command.poolSize, "--pool-size", "DATABASE_POOL_SIZE", default: 8, range: 1...500,
            unit: "a number of connections")
        maxBodyBytes = try integer(
            command.maxBodyBytes, "--max-body-bytes", "MAX_BODY_BYTES", default: 32 * 1024 * 1024,
            range: 1024...(1 << 40), unit: "a number of bytes")
        idleTimeoutSeconds = try integer(
            command.idleTimeout, "--idle-timeout", "IDLE_TIMEOUT_SECONDS", default: 30, range: 1...86_400,
            unit: "a number of seconds")
        requestBudgetSeconds = try integer(
            command.requestBudget, "--request-budget", "REQUEST_BUDGET_SECONDS", default: 60, range: 1...86_400,
            unit: "a number of seconds")
        shutdownGraceSeconds = try integer(
            command.shutdownGrace, "--shutdown-grace", "SHUTDOWN_GRACE_SECONDS", default: 10, range: 0...3600,
            unit: "a number of seconds")
        suppressionMinPartners = try integer(
            command.suppressionMinPartners, "--suppression-min-partners", "SUPPRESSION_MIN_PARTNERS", default: 3,
            range: 1...1000,
            unit: "a number of partners")
        func number(
            _ flag: Double?, _ name: String, _ variable: String, default value: Double, range: ClosedRange<Double>,
            unit: String
        ) throws -> Double {
            let (resolved, source) = try Self.value(flag, name, variable, environment, Double.init)
            let chosen = resolved ?? value
            guard chosen.isFinite, range.contains(chosen) else {
                throw ValidationError("\(source ?? name) is \(chosen); it must be \(unit)")
            }
            return chosen
        }
        suppressionMinCount = try number(
            command.suppressionMinCount, "--suppression-min-count", "SUPPRESSION_MIN_COUNT", default: 5,
            range: 0...Double.greatestFiniteMagnitude,
            unit: "a number of 0 or more")
        suppressionDominance = try number(
            command.suppressionDominance, "--suppression-dominance", "SUPPRESSION_DOMINANCE", default: 0.85,
            range: 0...1,
            unit: "a share from 0 to 1")
        suppressionProtectionPercent = try number(
            command.suppressionProtectionPercent, "--suppression-protection-percent", "SUPPRESSION_PROTECTION_PERCENT",
            default: 10,
            range: 0...Double.greatestFiniteMagnitude, unit: "a percentage of 0 or more")
        suppressionProtectionMin = try number(
            command.suppressionProtectionMin, "--suppression-protection-min", "SUPPRESSION_PROTECTION_MIN", default: 2,
            range: 0...Double.greatestFiniteMagnitude, unit: "a number of 0 or more")
        releaseAfterDays = try integer(
            command.releaseAfterDays, "--release-after-days", "RELEASE_AFTER_DAYS", default: 45, range: 0...3650,
            unit: "a number of days")
        reminderDaysBefore = try integer(
            command.reminderDaysBefore, "--reminder-days-before", "REMINDER_DAYS_BEFORE", default: 7, range: 0...366,
            unit: "a number of days")
        reminderIntervalSeconds = try integer(
            command.reminderInterval, "--reminder-interval", "REMINDER_INTERVAL_SECONDS", default: 300,
            range: 1...86_400, unit: "a number of seconds")
        qualityChecks = try onOff(command.qualityChecks, "--quality-checks", "QUALITY_CHECKS", default: true)
        submissionEvents = try onOff(
            command.submissionEvents, "--submission-events", "SUBMISSION_EVENTS", default: true)
        outlierThreshold = try number(
            command.outlierThreshold, "--outlier-threshold", "OUTLIER_THRESHOLD",
            default: OutlierScorer.defaultThreshold, range: 1...1000, unit: "a score from 1 to 1000")
        outlierMinHistory = try integer(
            command.outlierMinHistory, "--outlier-min-history", "OUTLIER_MIN_HISTORY",
            default: OutlierScorer.defaultMinimumHistory, range: 2...OutlierScorer.recentPeriods,
            unit: "a number of periods")
        (logLevel, logFormat) = try Self.logging(environment)
        let allowPrivate = try onOff(
            command.webhookAllowPrivateNetworks, "--webhook-allow-private-networks", "WEBHOOK_ALLOW_PRIVATE_NETWORKS",
            default: false)
        webhooks = WebhookSettings(
            allowPrivateNetworks: allowPrivate,
            retryScale: try number(
                command.webhookRetryScale, "--webhook-retry-scale", "WEBHOOK_RETRY_SCALE", default: 1,
                range: 0.0001...1000, unit: "a factor from 0.0001 to 1000"),
            timeoutSeconds: try integer(
                command.webhookTimeout, "--webhook-timeout", "WEBHOOK_TIMEOUT_SECONDS", default: 15, range: 1...300,
                unit: "a number of seconds"),
            retentionDays: try integer(
                command.webhookRetentionDays, "--webhook-retention-days", "WEBHOOK_RETENTION_DAYS", default: 30,
                range: 1...3650, unit: "a number of days"))
    }

    /// `LOG_LEVEL` (default info) and `LOG_FORMAT` (text or json, default text).
    static func logging(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (
        Logger.Level, LogFormat
    ) {
        var level = Logger.Level.info
        if let text = environment["LOG_LEVEL"], !text.isEmpty {
            guard let parsed = Logger.Level(rawValue: text.lowercased()) else {
                throw ValidationError(
                    "LOG_LEVEL=\(text) is not a level; use one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            level = parsed
        }
        var format = LogFormat.text
        if let text = environment["LOG_FORMAT"], !text.isEmpty {
            guard let parsed = LogFormat(rawValue: text.lowercased()) else {
                throw ValidationError("LOG_FORMAT=\(text) is not a format; use text or json")
            }
            format = parsed
        }
        return (level, format)
    }

    /// The flag's value, else the variable's read by `parse`; with where it came from, for messages.
    private static func value<T>(
        _ flag: T?, _ name: String, _ variable: String, _ environment: [String: String], _ parse: (String) -> T?
    ) throws -> (T?, String?) {
        if let flag { return (flag, name) }
        guard let text = environment[variable], !text.isEmpty else { return (nil, nil) }
        guard let parsed = parse(text.trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError("\(variable)=\(text) is not a number")
        }
        return (parsed, variable)
    }
}

extension Settings {
    /// The plausibility checks submissions go through.
    var quality: QualitySettings {
        QualitySettings(
            enabled: qualityChecks,
            outliers: OutlierScorer(threshold: outlierThreshold, minimumHistory: outlierMinHistory))
    }
}
