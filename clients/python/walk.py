#!/usr/bin/env python3
"""An end-to-end walk through Backbone with the Python client that openapi-python-client
generates from openapi.yaml (clients/run.sh generates it and puts it on PYTHONPATH), as a
coordinator and a partner would: registry, a key, a JSON batch and a CSV upload, a bad
batch read back as a typed problem, a report and the scorecard, then a validation rule
evaluated over the stored rows and the flag it opens, explained by the partner and
confirmed by the coordinator, the story behind the curve with the partner's words,
quoted, an action of the plan the partner carries out, and the board packet, published.
Exits non-zero on any surprise.

    python3 clients/python/walk.py http://127.0.0.1:8080 "$COORDINATOR_KEY"
"""
import datetime
import io
import secrets
import sys

from backbone_client import AuthenticatedClient
from backbone_client.api.actions import create_action, get_action_history, list_actions, update_action
from backbone_client.api.keys import create_key
from backbone_client.api.measurements import submit_measurements
from backbone_client.api.packets import create_publication, get_board_packet
from backbone_client.api.quality import create_rule, evaluate_rule, list_flags, update_flag
from backbone_client.api.registry import create_agenda, create_indicator, create_neighborhood, create_partner
from backbone_client.api.reports import get_indicator_report, get_scorecard
from backbone_client.api.stories import create_contribution, get_story, save_story, update_contribution
from backbone_client.api.webhooks import create_webhook, list_webhook_deliveries, ping_webhook
from backbone_client.models import (
    Agenda, AgendaCreate, Aggregation, Dimension, Direction, ImportSummary, Indicator, IndicatorCreate,
    IndicatorReport, IssuedKey, KeyCreate, MeasurementBatch, MeasurementRow, MeasurementRowDimensions, Neighborhood,
    NeighborhoodCreate, Partner, PartnerCreate, PartnerKind, PartnerLevel, PeriodType, Problem, Role, Scorecard,
    SubmitMeasurementsDryRun, ValueType, Rule, RuleCreate, RuleOperator, RuleAction, Flag, FlagAnswer, FlagStatus,
    EvaluateRuleResponse200, ListFlagsResponse200, BoardPacket, Publication, PublicationCreate,
    PublicationCreateAudience, Story, StoryWrite, Contribution, ContributionCreate, ContributionUpdate,
    Action, ActionCreate, ActionStatus, ActionUpdate, GetActionHistoryResponse200, ListActionsResponse200,
    WebhookCreate, WebhookCreated, WebhookEventType, PingWebhookResponse202, ListWebhookDeliveriesResponse200,
)
# A nullable object schema (baseline, target: a period and a value, or null) is a union
# of this model and None.
from backbone_client.models import PeriodValueType0 as PeriodValue
from backbone_client.types import File


class Surprise(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Surprise(message)


def typed(response, kind, status):
    """The parsed body of a response that must have this status and type."""
    expect(response.status_code == status and isinstance(response.parsed, kind),
           f"expected {status} {kind.__name__}, got {response.status_code}: {response.content[:500]!r}")
    return response.parsed


def step(text):
    print(f"python walk: {text}", flush=True)


def dims(**values):
    dimensions = MeasurementRowDimensions()
    dimensions.additional_properties = dict(values)
    return dimensions


def walk(server, coordinator_key):
    coordinator = AuthenticatedClient(base_url=server, token=coordinator_key)
    run = secrets.token_hex(4)
    agenda, indicator = f"walk-python-{run}", f"walk_python_enrolled_{run}"
    city, northside, partner = f"walk-python-city-{run}", f"walk-python-north-{run}", f"walk-python-library-{run}"

    # The coordinator sets up the registry.
    created = typed(create_agenda.sync_detailed(client=coordinator, body=AgendaCreate(
        id=agenda, name="Every adult reads (Python walk)", vision="Every adult reads well enough to get a job.",
        starts_on="2025-01-01", ends_on="2030-12-31", reporting_due_days=20)), Agenda, 201)
    expect(created.id == agenda and created.active and created.reporting_due_days == 20, f"agenda: {created}")
    step(f"agenda {agenda} created, numbers due 20 days after a period ends")

    created = typed(create_indicator.sync_detailed(client=coordinator, body=IndicatorCreate(
        code=indicator, agenda=agenda, name="Adults enrolled in ESL classes", unit="learners",
        value_type=ValueType.COUNT, aggregation=Aggregation.SUM, period_type=PeriodType.MONTH,
        direction=Direction.INCREASE, baseline=PeriodValue(period="2025-01", value=300),
        target=PeriodValue(period="2027-12", value=900), min_=0,
        dimensions=[Dimension(name="age_group", values=["16-24", "25-44", "45+"])])), Indicator, 201)
    expect([d.name for d in created.dimensions] == ["age_group"], f"indicator: {created}")
    expect(created.baseline is not None and created.baseline.value == 300, f"baseline: {created.baseline}")
    step(f"indicator {indicator} created with dimension age_group")

    typed(create_neighborhood.sync_detailed(client=coordinator, body=NeighborhoodCreate(
        code=city, name="City", population=250000)), Neighborhood, 201)
    created = typed(create_neighborhood.sync_detailed(client=coordinator, body=NeighborhoodCreate(
        code=northside, name="Northside", parent=city, population=42000)), Neighborhood, 201)
    expect(created.parent == city, f"neighborhood: {created}")
    step(f"neighborhoods {city} > {northside} created")

    created = typed(create_partner.sync_detailed(client=coordinator, body=PartnerCreate(
        id=partner, name="Central Library", kind=PartnerKind.LIBRARY, level=PartnerLevel.COLLABORATING,
        contact_email="literacy@library.example")), Partner, 201)
    expect(created.kind == PartnerKind.LIBRARY, f"partner: {created}")
    key = typed(create_key.sync_detailed(client=coordinator, body=KeyCreate(
        role=Role.PARTNER, partner=partner, name="Python walk")), IssuedKey, 201)
    expect(key.role == Role.PARTNER and key.partner == partner and key.secret.startswith("bbk_"), f"key: {key}")
    step(f"partner {partner} and its key {key.id} created")

    # The partner submits a JSON batch and reads the import summary.
    library = AuthenticatedClient(base_url=server, token=key.secret)
    batch = MeasurementBatch(measurements=[
        MeasurementRow(indicator=indicator, neighborhood=northside, period="2025-10", value=42,
                       dimensions=dims(age_group="25-44"), note="spring cohort"),
        MeasurementRow(indicator=indicator, neighborhood=northside, period="2025-10", value=17,
                       dimensions=dims(age_group="16-24")),
    ])
    summary = typed(submit_measurements.sync_detailed(
        client=library, body=batch, idempotency_key=f"python-walk-{run}"), ImportSummary, 200)
    expect((summary.received, summary.created, summary.rejected, summary.errors, summary.dry_run) == (2, 2, 0, [], False),
           f"import summary: {summary}")
    step(f"JSON batch stored: received {summary.received}, created {summary.created}, batch {summary.batch_id}")

    # The same rows from a spreadsheet export, checked without storing.
    csv = (f"indicator,neighborhood,period,value,dim.age_group,note\r\n"
           f"{indicator},{northside},2025-10,42,25-44,spring cohort\r\n"
           f"{indicator},{northside},2025-11,45,45+,\r\n")
    summary = typed(submit_measurements.sync_detailed(
        client=library, body=File(payload=io.BytesIO(csv.encode()), file_name="october.csv", mime_type="text/csv"),
        dry_run=SubmitMeasurementsDryRun.TRUE), ImportSummary, 200)
    expect(summary.dry_run and (summary.received, summary.unchanged, summary.created) == (2, 1, 1), f"CSV dry run: {summary}")
    step(f"CSV upload checked (dry run): {summary.unchanged} unchanged, {summary.created} would be created")

    # A bad batch: nothing is stored, and the problem names each row and field.
    bad = MeasurementBatch(measurements=[
        MeasurementRow(indicator=indicator, neighborhood=northside, period="2025-11", value=5, dimensions=dims(age_group="16-24")),
        MeasurementRow(indicator=indicator, neighborhood=northside, period="2025-13", value=3, dimensions=dims(age_group="16-24")),
        MeasurementRow(indicator=indicator, neighborhood=northside, period="2025-11", value=2.5, dimensions=dims(age_group="90+")),
    ])
    problem = typed(submit_measurements.sync_detailed(client=library, body=bad), Problem, 422)
    expect(problem.status == 422 and problem.code == "validation-failed", f"problem: {problem}")
    errors = {(error.row, error.field, error.code) for error in problem.errors}
    for expected in [(1, "period", "malformed-period"), (2, "value", "not-integer"),
                     (2, "dimensions.age_group", "disallowed-dimension-value")]:
        expect(expected in errors, f"no error {expected} in {errors}")
    expect(not any(row == 0 for row, _, _ in errors), f"row 0 is valid, yet: {errors}")
    step("bad batch refused: " + "; ".join(f"row {r} {f} {c}" for r, f, c in sorted(errors)))

    # The coordinator reads the report by neighborhood and the scorecard.
    report = typed(get_indicator_report.sync_detailed(
        indicator, client=coordinator, by="neighborhood", from_="2025-01", to="2025-12"), IndicatorReport, 200)
    rows = [row for row in report.rows if row.neighborhood == northside]
    expect(report.aggregation == Aggregation.SUM and len(report.rows) == 1 and rows and rows[0].value == 59
           and rows[0].partners == 1 and report.total.value == 59, f"report: {report}")
    step(f"report by neighborhood: {northside} = {rows[0].value}, total {report.total.value}")

    scorecard = typed(get_scorecard.sync_detailed(client=coordinator, agenda=agenda), Scorecard, 200)
    lines = [line for line in scorecard.indicators if line.indicator == indicator]
    expect(scorecard.agenda == agenda and lines and lines[0].period == "2025-10" and lines[0].value == 59
           and lines[0].target is not None and lines[0].target.value == 900, f"scorecard: {scorecard}")
    step(f"scorecard: {indicator} {lines[0].period} = {lines[0].value}, progress {lines[0].progress}")

    # A rule over data stored before it: 17 of 59 learners are 16-24, more than a quarter.
    rule = typed(create_rule.sync_detailed(client=coordinator, body=RuleCreate(
        id=f"walk-python-young-{run}", agenda=agenda, name="Young learners at most a quarter",
        left=f"{indicator}[age_group=16-24]", operator=RuleOperator("<="), right=f"0.25 * {indicator}",
        action=RuleAction.WARN)), Rule, 201)
    swept = typed(evaluate_rule.sync_detailed(rule.id, client=coordinator), EvaluateRuleResponse200, 200)
    expect((swept.cells, swept.violations, swept.standing_flags) == (1, 1, 1), f"evaluate: {swept}")
    flags = typed(list_flags.sync_detailed(client=library, status=FlagStatus.OPEN), ListFlagsResponse200, 200)
    expect(flags.total == 1 and flags.items[0].rule == rule.id and flags.items[0].period == "2025-10", f"flags: {flags}")
    flag = typed(update_flag.sync_detailed(flags.items[0].id, client=library, body=FlagAnswer(
        note="A youth cohort started in October.")), Flag, 200)
    expect(flag.status == FlagStatus.EXPLAINED, f"explained: {flag}")
    flag = typed(update_flag.sync_detailed(flag.id, client=coordinator, body=FlagAnswer(
        status=FlagStatus.CONFIRMED, note="Checked.")), Flag, 200)
    expect(flag.status == FlagStatus.CONFIRMED and [c.status for c in flag.history] ==
           [FlagStatus.OPEN, FlagStatus.EXPLAINED, FlagStatus.CONFIRMED], f"confirmed: {flag}")
    step(f"rule {rule.id}: {swept.violations} violation, flag {flag.id} explained by the partner and confirmed")

    # October's story stands, stale, for December; the partner's words are quoted.
    story = typed(save_story.sync_detailed(indicator, "2025-10", client=coordinator, body=StoryWrite(
        story_behind_the_curve="A youth cohort started in October.", what_works="Evening classes.")), Story, 201)
    in_force = typed(get_story.sync_detailed(indicator, "2025-12", client=library), Story, 200)
    expect(in_force.version == story.version and in_force.written_for == "2025-10" and in_force.stale,
           f"story in force: {in_force}")
    said = typed(create_contribution.sync_detailed(client=library, body=ContributionCreate(
        indicator=indicator, period="2025-10", text="We opened a youth class in October.")), Contribution, 201)
    said = typed(update_contribution.sync_detailed(said.id, client=coordinator, body=ContributionUpdate(
        quoted=True)), Contribution, 200)
    expect(said.quoted and said.partner == partner, f"contribution: {said}")
    step(f"story version {story.version} in force for 2025-12 (stale); contribution {said.id} quoted")

    # An action of the plan, past its due day: overdue until the partner that owns it is done.
    action = typed(create_action.sync_detailed(client=coordinator, body=ActionCreate(
        indicator=indicator, title="Open a Saturday class", owner=partner, due=datetime.date(2025, 11, 30))),
        Action, 201)
    expect(action.status == ActionStatus.PLANNED and action.overdue, f"action: {action}")
    action = typed(update_action.sync_detailed(action.id, client=library, body=ActionUpdate(
        status=ActionStatus.DONE, note="Twelve learners came to the first class.")), Action, 200)
    expect(action.status == ActionStatus.DONE and not action.overdue, f"done: {action}")
    listed = typed(list_actions.sync_detailed(client=library, indicator=indicator, overdue=False),
                   ListActionsResponse200, 200)
    expect([a.id for a in listed.items] == [action.id], f"actions: {listed}")
    history = typed(get_action_history.sync_detailed(action.id, client=library), GetActionHistoryResponse200, 200)
    expect([(c.change, c.action.status) for c in history.items] == [("created", ActionStatus.PLANNED),
           ("updated", ActionStatus.DONE)] and history.items[1].key == key.id, f"history: {history}")
    step(f"action {action.id}: overdue, then done by {partner}; {len(history.items)} changes kept")

    # A webhook for the partner's own submissions (docs/events.md): its secret shown once, a ping to test it.
    hook = typed(create_webhook.sync_detailed(client=library, body=WebhookCreate(
        url="https://198.51.100.7/hooks/backbone", events=[WebhookEventType("measurements.submitted")])),
        WebhookCreated, 201)
    expect(hook.secret.startswith("whsec_") and hook.partner == partner, f"webhook: {hook}")
    pinged = typed(ping_webhook.sync_detailed(hook.id, client=library), PingWebhookResponse202, 202)
    log = typed(list_webhook_deliveries.sync_detailed(hook.id, client=library), ListWebhookDeliveriesResponse200, 200)
    expect(all(d.event.type_ == "ping" for d in log.items), f"deliveries: {log}")
    step(f"webhook {hook.id} for {partner}: ping {pinged.webhook_id}; {len(log.items)} deliveries logged so far")

    # The board packet for the quarter (the story, the quoted words, the action), then frozen as a publication.
    packet = typed(get_board_packet.sync_detailed(client=coordinator, agenda=agenda, period="2025-Q4"), BoardPacket, 200)
    pages = [page for page in packet.indicators if page.indicator == indicator]
    expect(packet.audience == "coordinator" and pages and pages[0].period == "2025-10" and pages[0].value == 59
           and pages[0].reporting_period == "2025-12" and pages[0].story.written_for == "2025-10"
           and [quote.text for quote in pages[0].quotes] == ["We opened a youth class in October."]
           and [a.title for a in pages[0].actions] == ["Open a Saturday class"], f"packet: {packet}")
    published = typed(create_publication.sync_detailed(client=coordinator, body=PublicationCreate(
        agenda=agenda, period="2025-Q4", title=f"Walk {run}", audience=PublicationCreateAudience.COORDINATOR)),
        Publication, 201)
    expect(published.agenda == agenda and len(published.json_sha256) == 64, f"publication: {published}")
    step(f"board packet: {len(packet.indicators)} indicator(s); publication {published.id} sha256 {published.json_sha256[:12]}…")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: walk.py URL COORDINATOR_KEY")
    try:
        walk(sys.argv[1], sys.argv[2])
    except Surprise as surprise:
        sys.exit(f"python walk: FAILED: {surprise}")
    print("python walk: ok")
