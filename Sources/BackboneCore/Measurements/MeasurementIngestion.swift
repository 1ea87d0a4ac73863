import Aggregation
import DataQuality
import Foundation
import Postgres

/// A submission from start to finish: check every row, then store all of them, the
/// valid ones (`partial`), or none (`dryRun`), in the caller's transaction.
public enum MeasurementIngestion {
    public enum Mode: String, Sendable {
        /// One bad row and nothing is stored.
        case allOrNothing = "all"
        /// Valid rows are stored; rejected ones are reported.
        case partial
    }

    /// Validates `parsed`, checks the valid rows' plausibility (`quality`: outliers and
    /// validation rules; a violated `reject` rule is an error on each row it reads), and
    /// writes them; warnings on stored values become flags. With `events` (the default), a
    /// stored batch writes its `measurements.submitted` and `measurements.corrected` events.
    public static func submit(
        _ connection: Connection, parsed: Submission, submitter: KeyHolder, mode: Mode, dryRun: Bool,
        quality: QualitySettings = .standard, events: Bool = true, batchID: UUID = UUID()
    ) throws -> ImportSummary {
        if let bound = submitter.partner,
            let other = parsed.rows.first(where: { $0.partner != nil && $0.partner != bound })
        {
            throw DomainError.forbidden(
                "A key of partner \(bound) cannot submit for partner \(other.partner!) (row \(other.row)).")
        }
        let context = try IngestionContext.load(connection, for: parsed.rows, defaultPartner: submitter.partner)
        let validator = MeasurementValidator(
            context: context, boundPartner: submitter.partner, respectsLocks: submitter.partner != nil)
        let (valid, validationIssues) = validator.validate(parsed.rows)
        let validRows = Set(valid.map(\.row))
        let preliminary = Set(parsed.issues.compactMap(\.row) + validationIssues.compactMap(\.row))
        var check = try DoorCheck.run(
            connection, rows: valid.filter { !preliminary.contains($0.row) && validRows.contains($0.row) },
            indicators: context.indicators, settings: quality)
        let issues = parsed.located(parsed.issues + validationIssues + check.rejections).sorted {
            ($0.row ?? -1, $0.field) < ($1.row ?? -1, $1.field)
        }
        let rejectedRows = Set(issues.compactMap(\.row))
        if mode == .allOrNothing, !issues.isEmpty {
            throw DomainError.rejected(issues, received: parsed.received)
        }
        check = check.dropping(rows: rejectedRows)
        let accepted = valid.filter { !rejectedRows.contains($0.row) }
        let outcome = try MeasurementWriter.write(
            connection, rows: accepted, batchID: batchID, keyID: submitter.keyID, dryRun: dryRun)
        if !dryRun {
            try FlagRecorder.record(
                connection, check, rows: accepted, batchID: batchID, keyID: submitter.keyID,
                updatedAny: outcome.updated > 0)
        }
        if !dryRun && events {
            try ChangeEvents.submitted(
                connection, batchID: batchID, parsed: parsed, defaultPartner: submitter.partner, accepted: accepted,
                outcome: outcome, indicators: context.indicators)
            if submitter.partner == nil {
                try ChangeEvents.corrected(connection, batchID: batchID, accepted: accepted, context: context)
            }
        }
        return ImportSummary(
            batchID: batchID.uuidString.lowercased(), dryRun: dryRun, mode: mode.rawValue, received: parsed.received,
            created: outcome.created,
            updated: outcome.updated, unchanged: outcome.unchanged, rejected: parsed.received - accepted.count,
            errors: issues, warnings: parsed.located(check.warnings))
    }
}
