// An end-to-end walk through Backbone with the client generated from openapi.yaml, as a
// coordinator and a partner would: registry, a key, a JSON batch and a CSV upload, a bad
// batch read back as a typed problem, a report and the scorecard, then a validation rule
// evaluated over the stored rows and the flag it opens, explained by the partner and
// confirmed by the coordinator, the story behind the curve with the partner's words,
// quoted, an action of the plan the partner carries out, and the board packet, published.
// Exits non-zero on any surprise.
//
//     backbone-walk http://127.0.0.1:8080 "$COORDINATOR_KEY"
import Foundation
import HTTPTypes
import OpenAPIRuntime
import OpenAPIURLSession

/// Sends `Authorization: Bearer <secret>` on every request.
struct BearerAuth: ClientMiddleware {
    let secret: String
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(secret)"
        return try await next(request, body, baseURL)
    }
}

struct Surprise: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw Surprise(message()) }
}

func step(_ text: String) { print("swift walk: \(text)") }

func walk(server: URL, coordinatorKey: String) async throws {
    let transport = URLSessionTransport()
    let coordinator = Client(serverURL: server, transport: transport, middlewares: [BearerAuth(secret: coordinatorKey)])
    let run = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    let agenda = "walk-swift-\(run)", indicator = "walk_swift_enrolled_\(run)"
    let city = "walk-swift-city-\(run)", northside = "walk-swift-north-\(run)", partner = "walk-swift-library-\(run)"

    // The coordinator sets up the registry.
    let createdAgenda = try await coordinator.createAgenda(body: .json(.init(
        id: agenda, name: "Every adult reads (Swift walk)", vision: "Every adult reads well enough to get a job.",
        startsOn: "2025-01-01", endsOn: "2030-12-31", reportingDueDays: 20))).created.body.json
    try expect(
        createdAgenda.id == agenda && createdAgenda.active && createdAgenda.reportingDueDays == 20,
        "agenda: \(createdAgenda)")
    step("agenda \(agenda) created, numbers due 20 days after a period ends")

    let createdIndicator = try await coordinator.createIndicator(body: .json(.init(
        code: indicator, agenda: agenda, name: "Adults enrolled in ESL classes", unit: "learners",
        valueType: .count, aggregation: .sum, periodType: .month, direction: .increase,
        baseline: .init(period: "2025-01", value: 300), target: .init(period: "2027-12", value: 900),
        min: 0, dimensions: [.init(name: "age_group", values: ["16-24", "25-44", "45+"])]))).created.body.json
    try expect(createdIndicator.dimensions.map(\.name) == ["age_group"], "indicator dimensions: \(createdIndicator.dimensions)")
    try expect(createdIndicator.baseline?.value == 300, "indicator baseline: \(String(describing: createdIndicator.baseline))")
    step("indicator \(indicator) created with dimension age_group")

    _ = try await coordinator.createNeighborhood(body: .json(.init(code: city, name: "City", population: 250_000))).created
    let createdNeighborhood = try await coordinator.createNeighborhood(body: .json(.init(
        code: northside, name: "Northside", parent: city, population: 42_000))).created.body.json
    try expect(createdNeighborhood.parent == city, "neighborhood parent: \(String(describing: createdNeighborhood.parent))")
    step("neighborhoods \(city) > \(northside) created")

    let createdPartner = try await coordinator.createPartner(body: .json(.init(
        id: partner, name: "Central Library", kind: .library, level: .collaborating,
        contactEmail: "literacy@library.example"))).created.body.json
    try expect(createdPartner.kind == .library, "partner: \(createdPartner)")
    let key = try await coordinator.createKey(body: .json(.init(role: .partner, partner: partner, name: "Swift walk"))).created.body.json
    try expect(key.role == .partner && key.partner == partner && key.secret.hasPrefix("bbk_"), "key: \(key.role) \(String(describing: key.partner))")
    step("partner \(partner) and its key \(key.id) created")

    // The partner submits a JSON batch and reads the import summary.
    let library = Client(serverURL: server, transport: transport, middlewares: [BearerAuth(secret: key.secret)])
    let batch = Components.Schemas.MeasurementBatch(measurements: [
        .init(indicator: indicator, neighborhood: northside, period: "2025-10", value: 42,
              dimensions: .init(additionalProperties: ["age_group": "25-44"]), note: "spring cohort"),
        .init(indicator: indicator, neighborhood: northside, period: "2025-10", value: 17,
              dimensions: .init(additionalProperties: ["age_group": "16-24"])),
    ])
    let summary = try await library.submitMeasurements(
        headers: .init(idempotencyKey: "swift-walk-\(run)"), body: .json(.MeasurementBatch(batch))).ok.body.json
    try expect(summary.received == 2 && summary.created == 2 && summary.rejected == 0 && summary.errors.isEmpty && !summary.dryRun,
               "import summary: \(summary)")
    step("JSON batch stored: received \(summary.received), created \(summary.created), batch \(summary.batchId)")

    // The same rows from a spreadsheet export, checked without storing.
    let csv = """
        indicator,neighborhood,period,value,dim.age_group,note\r
        \(indicator),\(northside),2025-10,42,25-44,spring cohort\r
        \(indicator),\(northside),2025-11,45,45+,\r

        """
    let csvSummary = try await library.submitMeasurements(query: .init(dryRun: ._true), body: .csv(HTTPBody(csv))).ok.body.json
    try expect(csvSummary.dryRun && csvSummary.received == 2 && csvSummary.unchanged == 1 && csvSummary.created == 1,
               "CSV dry run: \(csvSummary)")
    step("CSV upload checked (dry run): \(csvSummary.unchanged) unchanged, \(csvSummary.created) would be created")

    // A bad batch: nothing is stored, and the problem names each row and field.
    let bad = Components.Schemas.MeasurementBatch(measurements: [
        .init(indicator: indicator, neighborhood: northside, period: "2025-11", value: 5,
              dimensions: .init(additionalProperties: ["age_group": "16-24"])),
        .init(indicator: indicator, neighborhood: northside, period: "2025-13", value: 3,
              dimensions: .init(additionalProperties: ["age_group": "16-24"])),
        .init(indicator: indicator, neighborhood: northside, period: "2025-11", value: 2.5,
              dimensions: .init(additionalProperties: ["age_group": "90+"])),
    ])
    let refusal = try await library.submitMeasurements(body: .json(.MeasurementBatch(bad)))
    guard case .unprocessableContent(let unprocessable) = refusal else { throw Surprise("bad batch: expected 422, got \(refusal)") }
    let problem = try unprocessable.body.applicationProblemJson
    try expect(problem.status == 422 && problem.code == "validation-failed", "problem: \(problem.code) \(problem.status)")
    let errors = problem.errors ?? []
    for (row, field, code) in [(1, "period", "malformed-period"), (2, "value", "not-integer"),
                               (2, "dimensions.age_group", "disallowed-dimension-value")] {
        try expect(errors.contains { $0.row == row && $0.field == field && $0.code == code },
                   "no error \(code) for row \(row) field \(field) in \(errors)")
    }
    try expect(!errors.contains { $0.row == 0 }, "row 0 is valid, yet: \(errors)")
    step("bad batch refused: " + errors.map { "row \($0.row ?? -1) \($0.field) \($0.code)" }.joined(separator: "; "))

    // The coordinator reads the report by neighborhood and the scorecard.
    let report = try await coordinator.getIndicatorReport(
        path: .init(code: indicator), query: .init(by: "neighborhood", from: "2025-01", to: "2025-12")).ok.body.json
    let row = report.rows.first { $0.value2.neighborhood == northside }
    try expect(report.aggregation == .sum && row?.value1.value == 59 && row?.value1.partners == 1 && report.total.value == 59,
               "report: \(report)")
    try expect(report.rows.count == 1, "rows: \(report.rows.count)")
    step("report by neighborhood: \(northside) = \(row?.value1.value ?? .nan), total \(report.total.value ?? .nan)")

    let scorecard = try await coordinator.getScorecard(query: .init(agenda: agenda)).ok.body.json
    let line = scorecard.indicators.first { $0.indicator == indicator }
    try expect(scorecard.agenda == agenda && line?.period == "2025-10" && line?.value == 59 && line?.target?.value == 900,
               "scorecard: \(scorecard)")
    step("scorecard: \(indicator) \(line?.period ?? "-") = \(line?.value ?? .nan), progress \(line?.progress ?? .nan)")

    // A rule over data stored before it: 17 of 59 learners are 16-24, more than a quarter.
    let rule = try await coordinator.createRule(body: .json(.init(
        id: "walk-swift-young-\(run)", agenda: agenda, name: "Young learners at most a quarter",
        left: "\(indicator)[age_group=16-24]", _operator: Components.Schemas.RuleOperator(rawValue: "<=")!,
        right: "0.25 * \(indicator)"))).created.body.json
    let swept = try await coordinator.evaluateRule(path: .init(id: rule.id)).ok.body.json
    try expect(swept.cells == 1 && swept.violations == 1 && swept.standingFlags == 1, "evaluate: \(swept)")
    let open = Components.Schemas.FlagStatus(rawValue: "open")!
    let flags = try await library.listFlags(query: .init(status: open)).ok.body.json
    guard flags.total == 1, let found = flags.items.first, found.rule == rule.id, found.period == "2025-10" else {
        throw Surprise("flags: \(flags)")
    }
    let explained = try await library.updateFlag(
        path: .init(id: found.id), body: .json(.init(note: "A youth cohort started in October."))).ok.body.json
    try expect(explained.status == Components.Schemas.FlagStatus(rawValue: "explained")!, "explained: \(explained)")
    let confirmed = try await coordinator.updateFlag(
        path: .init(id: found.id),
        body: .json(.init(status: Components.Schemas.FlagStatus(rawValue: "confirmed")!, note: "Checked."))
    ).ok.body.json
    try expect(confirmed.history.map(\.status.rawValue) == ["open", "explained", "confirmed"], "confirmed: \(confirmed)")
    step("rule \(rule.id): \(swept.violations) violation, flag \(found.id) explained by the partner and confirmed")

    // October's story stands, stale, for December; the partner's words are quoted.
    let story = try await coordinator.saveStory(
        path: .init(indicator: indicator, period: "2025-10"),
        body: .json(.init(storyBehindTheCurve: "A youth cohort started in October.", whatWorks: "Evening classes."))
    ).created.body.json
    let inForce = try await library.getStory(path: .init(indicator: indicator, period: "2025-12")).ok.body.json
    try expect(inForce.version == story.version && inForce.writtenFor == "2025-10" && inForce.stale,
               "story in force: \(inForce)")
    let said = try await library.createContribution(body: .json(.init(
        indicator: indicator, period: "2025-10", text: "We opened a youth class in October."))).created.body.json
    let quoted = try await coordinator.updateContribution(
        path: .init(id: said.id), body: .json(.init(quoted: true))).ok.body.json
    try expect(quoted.quoted && quoted.partner == partner, "contribution: \(quoted)")
    step("story version \(story.version) in force for 2025-12 (stale); contribution \(said.id) quoted")
    // An action of the plan, past its due day: overdue until the partner that owns it is done.
    let action = try await coordinator.createAction(body: .json(.init(
        indicator: indicator, title: "Open a Saturday class", owner: partner, due: "2025-11-30"))).created.body.json
    try expect(action.status == .planned && action.overdue, "action: \(action)")
    let done = try await library.updateAction(
        path: .init(id: action.id),
        body: .json(.init(status: .done, note: "Twelve learners came to the first class."))).ok.body.json
    try expect(done.status == .done && !done.overdue, "done: \(done)")
    let listed = try await library.listActions(query: .init(indicator: indicator, overdue: false)).ok.body.json
    try expect(listed.items.map(\.id) == [action.id], "actions: \(listed)")
    let history = try await library.getActionHistory(path: .init(id: action.id)).ok.body.json
    try expect(
        history.items.map(\.change.rawValue) == ["created", "updated"] && history.items.last?.key == key.id,
        "history: \(history)")
    step("action \(action.id): overdue, then done by \(partner); \(history.items.count) changes kept")
    // A webhook for the partner's own submissions (docs/events.md): its secret shown once, a ping to test it.
    let hook = try await library.createWebhook(body: .json(.init(
        url: "https://198.51.100.7/hooks/backbone",
        events: [.init(rawValue: "measurements.submitted")!]))).created.body.json
    try expect(hook.value2.secret.hasPrefix("whsec_") && hook.value1.partner == partner, "webhook: \(hook)")
    let pinged = try await library.pingWebhook(path: .init(id: hook.value1.id)).accepted.body.json
    let log = try await library.listWebhookDeliveries(path: .init(id: hook.value1.id)).ok.body.json
    try expect(log.items.allSatisfy { $0.event._type == "ping" }, "deliveries: \(log)")
    step("webhook \(hook.value1.id) for \(partner): ping \(pinged.webhookId); \(log.items.count) deliveries logged so far")
    // The board packet for the quarter, frozen as a publication whose bytes come back as stored.
    let packet = try await coordinator.getBoardPacket(query: .init(agenda: agenda, period: "2025-Q4")).ok.body.json
    let page = packet.indicators.first { $0.value1.indicator == indicator }
    try expect(page?.value1.period == "2025-10" && page?.value1.value == 59 && page?.value2.reportingPeriod == "2025-12"
               && page?.value2.story?.writtenFor == "2025-10"
               && page?.value2.quotes.map(\.text) == ["We opened a youth class in October."]
               && page?.value2.actions.map(\.title) == ["Open a Saturday class"], "packet: \(packet)")
    let published = try await coordinator.createPublication(body: .json(.init(
        agenda: agenda, period: "2025-Q4", title: "Walk \(run)", audience: .coordinator))).created.body.json
    let frozen = try await coordinator.getPublication(path: .init(id: published.id)).ok.body.json
    try expect(frozen.title == "Walk \(run)" && frozen.indicators.count == packet.indicators.count,
               "publication: \(frozen)")
    step("board packet: \(packet.indicators.count) indicator(s); publication \(published.id) sha256 \(published.jsonSha256.prefix(12))…")
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let server = URL(string: arguments[1]) else {
    FileHandle.standardError.write(Data("usage: backbone-walk URL COORDINATOR_KEY\n".utf8))
    exit(2)
}
do {
    try await walk(server: server, coordinatorKey: arguments[2])
    print("swift walk: ok")
} catch {
    FileHandle.standardError.write(Data("swift walk: FAILED: \(error)\n".utf8))
    exit(1)
}
