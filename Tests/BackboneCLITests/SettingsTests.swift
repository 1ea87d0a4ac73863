import ArgumentParser
import Testing

@testable import BackboneCLI

/// `serve`'s settings resolved in the test process: the executable target imported with
/// `@testable`, as SwiftPM allows on Linux too, without starting the binary.
@Suite("serve's settings")
struct SettingsTests {
    @Test func aFlagWinsOverItsVariableAndDefaultsFillTheRest() throws {
        var command = try ServeCommand.parse([])
        command.port = 9000
        let settings = try Settings(command, environment: ["PORT": "7000", "DATABASE_POOL_SIZE": "12"])
        #expect(settings.port == 9000)
        #expect(settings.poolSize == 12)
        #expect(settings.host == "127.0.0.1")
        #expect(settings.releaseAfterDays == 45)
        #expect(settings.suppressionMinPartners == 3)
    }

    @Test func aValueOutOfRangeNamesTheFlagOrTheVariable() throws {
        var command = try ServeCommand.parse([])
        command.port = 70000
        let flag = #expect(throws: ValidationError.self) { try Settings(command, environment: [:]) }
        #expect(flag?.description.contains("--port is 70000") == true, "\(String(describing: flag))")
        command.port = nil
        let variable = #expect(throws: ValidationError.self) {
            try Settings(command, environment: ["SUPPRESSION_DOMINANCE": "2"])
        }
        #expect(variable?.description.contains("SUPPRESSION_DOMINANCE is 2") == true, "\(String(describing: variable))")
    }

    @Test func theQualityChecksAreOnWithTheFixturesDefaultsAndRefuseOtherWords() throws {
        let command = try ServeCommand.parse([])
        let standard = try Settings(command, environment: [:])
        #expect(standard.qualityChecks && standard.outlierThreshold == 3 && standard.outlierMinHistory == 12)
        let off = try Settings(command, environment: ["QUALITY_CHECKS": "off", "OUTLIER_THRESHOLD": "4.5"])
        #expect(!off.quality.enabled && off.quality.outliers.threshold == 4.5)
        let word = #expect(throws: ValidationError.self) {
            try Settings(command, environment: ["QUALITY_CHECKS": "no"])
        }
        #expect(word?.description.contains("QUALITY_CHECKS is no") == true, "\(String(describing: word))")
        #expect(standard.submissionEvents)
        #expect(try !Settings(command, environment: ["SUBMISSION_EVENTS": "off"]).submissionEvents)
        let events = #expect(throws: ValidationError.self) {
            try Settings(command, environment: ["SUBMISSION_EVENTS": "yes"])
        }
        #expect(events?.description.contains("SUBMISSION_EVENTS is yes") == true, "\(String(describing: events))")
        let history = #expect(throws: ValidationError.self) {
            try Settings(command, environment: ["OUTLIER_MIN_HISTORY": "40"])
        }
        #expect(history?.description.contains("OUTLIER_MIN_HISTORY is 40") == true, "\(String(describing: history))")
    }

    @Test func remindersComeAWeekBeforeEveryFiveMinutesAndOutOfRangeIsRefused() throws {
        var command = try ServeCommand.parse([])
        let standard = try Settings(command, environment: [:])
        #expect(standard.reminderDaysBefore == 7 && standard.reminderIntervalSeconds == 300)
        let set = try Settings(command, environment: ["REMINDER_DAYS_BEFORE": "3", "REMINDER_INTERVAL_SECONDS": "1"])
        #expect(set.reminderDaysBefore == 3 && set.reminderIntervalSeconds == 1)
        let days = #expect(throws: ValidationError.self) {
            try Settings(command, environment: ["REMINDER_DAYS_BEFORE": "400"])
        }
        #expect(days?.description.contains("REMINDER_DAYS_BEFORE is 400") == true, "\(String(describing: days))")
        command.reminderInterval = 0
        let interval = #expect(throws: ValidationError.self) { try Settings(command, environment: [:]) }
        #expect(interval?.description.contains("--reminder-interval is 0") == true, "\(String(describing: interval))")
    }

    @Test func webhooksRefusePrivateNetworksAndKeepTheirScheduleByDefault() throws {
        let command = try ServeCommand.parse([])
        let standard = try Settings(command, environment: [:]).webhooks
        #expect(!standard.allowPrivateNetworks && standard.retryScale == 1 && standard.timeoutSeconds == 15)
        let testing = try Settings(
            command,
            environment: [
                "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "on", "WEBHOOK_RETRY_SCALE": "0.001", "WEBHOOK_TIMEOUT_SECONDS": "2",
            ]
        ).webhooks
        #expect(testing.allowPrivateNetworks && testing.retryScale == 0.001 && testing.timeoutSeconds == 2)
        let word = #expect(throws: ValidationError.self) {
            try Settings(command, environment: ["WEBHOOK_ALLOW_PRIVATE_NETWORKS": "maybe"])
        }
        #expect(word?.description.contains("WEBHOOK_ALLOW_PRIVATE_NETWORKS is maybe") == true)
        let scale = #expect(throws: ValidationError.self) {
            try Settings(command, environment: ["WEBHOOK_RETRY_SCALE": "0"])
        }
        #expect(scale?.description.contains("WEBHOOK_RETRY_SCALE is 0") == true, "\(String(describing: scale))")
    }
}
