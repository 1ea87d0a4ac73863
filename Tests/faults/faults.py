#!/usr/bin/env python3
"""Fault tests against a live `backbone serve` (the debug binary) and its own throwaway
PostgreSQL. Run by scripts/test.sh; about two minutes.

    python3 Tests/faults/faults.py [--soak-seconds 30] [--binary PATH]

1. The database restarts (`pg_ctl restart -m immediate`) and then stops for ~5 s while
   four clients upload batches: every acknowledged batch is stored whole, no batch is
   stored in part, answers meanwhile are prompt 503 `database-unavailable` with
   Retry-After (no 500, no hang), and the service recovers without a restart.
2. SIGTERM during a 50,000-row upload: the upload is stored whole with a 2xx, or not at
   all, and serve exits 0.
3. A mixed soak (reads, writes, reports, bad requests): no 5xx, and resident memory and
   open file descriptors at the end within bounds of the start.
4. Two server processes on one database send reminders every second: each reminder
   (partner, indicator, period, stage) and each day's digest is written once, and every
   reminder event left in the outbox is one a recorded reminder names.
5. Webhooks (webhooks.py): a receiver down, flaky and slow; `kill -9` between a commit and
   its delivery; two server processes on one database.
Prints the figures; exits 1 when a check fails.
"""
import argparse
import json
import random
import signal
import sys
import threading
import time

import harness
import webhooks

AGES = ["16-24", "25-44", "45+"]
PARTNERS = ["library", "school"]
WEEKS = list(harness.weeks())
NEIGHBORHOODS = 40
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, flush=True)


class Keys:
    """Hands out natural keys no other batch uses, so a batch's rows are its own."""

    def __init__(self):
        self.next = 0
        self.lock = threading.Lock()

    def take(self, count):
        with self.lock:
            start = self.next
            self.next += count
        rows = []
        for k in range(start, start + count):
            rows.append({"partner": PARTNERS[k % 2], "indicator": "learners",
                         "neighborhood": f"n{(k // (6 * len(WEEKS))) % NEIGHBORHOODS}",
                         "period": WEEKS[(k // 6) % len(WEEKS)], "value": k % 97,
                         "dimensions": {"age_group": AGES[(k // 2) % 3]}})
        return rows


def stored_by_tag(cluster, database, prefix):
    text = cluster.psql(f"SELECT note, count(*) FROM measurements WHERE note LIKE '{prefix}%' GROUP BY note", database)
    return {line.split("|")[0]: int(line.split("|")[1]) for line in text.splitlines() if line}


def database_outage(cluster, database, serve, key, keys):
    """Fault 1: restart -m immediate, then a 5-second stop, under four uploading clients."""
    batch_rows = 100
    sent, acknowledged, outcomes = {}, set(), []
    stop = threading.Event()
    lock = threading.Lock()

    def uploader(number):
        batch = 0
        while not stop.is_set():
            tag = f"outage-{number}-{batch}"
            batch += 1
            rows = keys.take(batch_rows)
            for row in rows:
                row["note"] = tag
            started = time.time()
            try:
                status, headers, body = harness.request(serve.port, "POST", "/v1/measurements", {"measurements": rows},
                                                         key, timeout=30)
            except OSError as error:
                status, headers, body = None, {}, str(error).encode()
            elapsed = time.time() - started
            with lock:
                sent[tag] = batch_rows
                outcomes.append((status, elapsed, headers, body))
                if status is not None and 200 <= status < 300:
                    acknowledged.add(tag)
            if status == 503:
                time.sleep(0.2)

    threads = [threading.Thread(target=uploader, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    cluster.restart("immediate")
    time.sleep(3)
    cluster.stop("immediate")
    # While the database is down, reads are refused promptly too.
    outage_reads = []
    down_until = time.time() + 5
    while time.time() < down_until:
        started = time.time()
        status, headers, body = harness.request(serve.port, "GET", "/v1/agendas", key=key, timeout=30)
        outage_reads.append((status, time.time() - started, headers, body))
        time.sleep(0.5)
    cluster.start()
    # Recovery without restarting serve: a read answers 200 again.
    recovered_after = None
    back = time.time()
    while time.time() - back < 30:
        if harness.request(serve.port, "GET", "/v1/agendas", key=key, timeout=10)[0] == 200:
            recovered_after = time.time() - back
            break
        time.sleep(0.2)
    time.sleep(2)  # a few uploads after recovery
    stop.set()
    for thread in threads:
        thread.join(60)

    stored = stored_by_tag(cluster, database, "outage-")
    whole = sum(1 for tag in acknowledged if stored.get(tag) == sent[tag])
    partial = [tag for tag, count in stored.items() if count != sent[tag]]
    unacknowledged_stored = sum(1 for tag in stored if tag not in acknowledged)
    statuses = {}
    for status, *_ in outcomes + outage_reads:
        statuses[status] = statuses.get(status, 0) + 1
    refused = [o for o in outcomes + outage_reads if o[0] == 503]
    slowest_refusal = max((o[1] for o in refused), default=0)
    print(f"database outage: {len(sent)} batches sent, {len(acknowledged)} acknowledged, {whole} verified whole, "
          f"{len(partial)} partial, {unacknowledged_stored} stored without an acknowledgement; "
          f"{len(outage_reads)} reads during the stop; statuses {dict(sorted(statuses.items(), key=str))}; "
          f"slowest 503 {slowest_refusal:.2f} s; recovered {recovered_after if recovered_after is None else round(recovered_after, 2)} s "
          f"after the database was back", flush=True)
    check(len(acknowledged) > 0, "no batch was acknowledged")
    check(whole == len(acknowledged), f"{len(acknowledged) - whole} acknowledged batches are not stored whole")
    check(not partial, f"batches stored in part: {partial[:5]}")
    check(all(status in (200, 503) for status, *_ in outcomes + outage_reads),
          f"answers other than 200 and 503: {[(o[0], o[3][:200]) for o in outcomes + outage_reads if o[0] not in (200, 503)][:5]}")
    check(all(json.loads(o[3]).get("code") == "database-unavailable" and "retry-after" in o[2] for o in refused),
          "a 503 without database-unavailable and Retry-After")
    check(any(o[0] == 503 for o in outage_reads), "reads during the stop were not refused")
    check(slowest_refusal < 10, f"a 503 took {slowest_refusal:.1f} s")
    check(recovered_after is not None, "the service did not recover within 30 s of the database's return")


def sigterm_during_upload(cluster, database, serve, key, keys):
    """Fault 2: SIGTERM while a 50,000-row upload is in flight."""
    rows = keys.take(50_000)
    for row in rows:
        row["note"] = "sigterm-upload"
    payload = json.dumps({"measurements": rows}).encode()
    result = {}

    def upload():
        try:
            result["answer"] = harness.request(serve.port, "POST", "/v1/measurements", payload, key, timeout=300)
        except OSError as error:
            result["error"] = str(error)

    thread = threading.Thread(target=upload)
    started = time.time()
    thread.start()
    time.sleep(1.0)
    serve.process.send_signal(signal.SIGTERM)
    status = serve.terminate(timeout=120)
    thread.join(300)
    answer = result.get("answer")
    stored = stored_by_tag(cluster, database, "sigterm-upload").get("sigterm-upload", 0)
    outcome = f"{answer[0]}" if answer else f"no answer ({result.get('error')})"
    print(f"SIGTERM during a 50,000-row upload: answer {outcome} after {time.time() - started:.1f} s, "
          f"{stored} rows stored, serve exited {status}", flush=True)
    check(status == 0, f"serve exited {status} after SIGTERM")
    if answer and 200 <= answer[0] < 300:
        check(stored == 50_000, f"acknowledged upload stored {stored} of 50000 rows")
    else:
        check(stored == 0, f"refused or cut upload stored {stored} rows")


def soak(cluster, serve, key, keys, seconds):
    """Fault 3: mixed traffic; no 5xx, memory and descriptors bounded."""
    warm = time.time() + 3
    while time.time() < warm:
        harness.request(serve.port, "GET", "/v1/reports/indicators/learners?by=neighborhood&from=2000-W01&to=2024-W52", key=key)
    rss_start, fds_start = harness.rss_kib(serve.pid), harness.open_fds(serve.pid)
    counts = {"requests": 0, "5xx": 0}
    fivexx = []
    lock = threading.Lock()
    deadline = time.time() + seconds
    pool = keys.take(3000)

    def record(status, what):
        with lock:
            counts["requests"] += 1
            if status is None or status >= 500:
                counts["5xx"] += 1
                fivexx.append((status, what))

    def writer():
        rng = random.Random()
        while time.time() < deadline:
            rows = rng.sample(pool, 50)
            rows = [dict(row, value=rng.randrange(100)) for row in rows]
            try:
                status = harness.request(serve.port, "POST", "/v1/measurements", {"measurements": rows}, key)[0]
            except OSError:
                status = None
            record(status, "write")

    def reader():
        rng = random.Random()
        paths = ["/v1/measurements?limit=100", "/v1/reports/indicators/learners?by=neighborhood&period=2001-W10",
                 "/v1/reports/indicators/learners?by=period&period_type=quarter&from=2000-W01&to=2002-W52",
                 "/v1/reports/indicators/learners?by=dimension:age_group&from=2000-W01&to=2001-W52&format=csv",
                 "/v1/reports/scorecard?agenda=literacy", "/v1/reports/completeness?agenda=literacy&period=2001-Q1",
                 "/v1/indicators", "/v1/neighborhoods?limit=50", "/readyz", "/healthz"]
        while time.time() < deadline:
            path = rng.choice(paths)
            try:
                status = harness.request(serve.port, "GET", path, key=key)[0]
            except OSError:
                status = None
            record(status, path)

    def bad():
        rng = random.Random()
        requests = [
            ("POST", "/v1/measurements", b'{"measurements": [', "application/json", key),
            ("POST", "/v1/measurements", b"partner,indicator,note\nlibrary,learners,\"open", "text/csv", key),
            ("POST", "/v1/measurements", json.dumps({"indicator": "learners", "value": 1e300}).encode(), "application/json", key),
            ("GET", "/v1/measurements?perod=2001-W01", None, None, key),
            ("GET", "/v1/agendas", None, None, "bbk_not-a-real-key"),
            ("GET", "/v1/agendas", None, None, None),
            ("POST", "/v1/locks", json.dumps({"agenda": "literacy", "period": "9999-Q4"}).encode(), "application/json", key),
            ("GET", "/v1/nowhere", None, None, key),
            ("DELETE", "/v1/agendas", None, None, key),
        ]
        while time.time() < deadline:
            method, path, body, content_type, sent_key = rng.choice(requests)
            try:
                status = harness.request(serve.port, method, path, body, sent_key, content_type=content_type or "application/json")[0]
            except OSError:
                status = None
            record(status, f"{method} {path}")

    threads = [threading.Thread(target=target) for target in (writer, writer, reader, reader, bad)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    time.sleep(1)
    rss_end, fds_end = harness.rss_kib(serve.pid), harness.open_fds(serve.pid)
    print(f"soak {seconds} s: {counts['requests']} requests, {counts['5xx']} 5xx; RSS {rss_start / 1024:.0f} -> "
          f"{rss_end / 1024:.0f} MiB; open fds {fds_start} -> {fds_end}", flush=True)
    check(counts["5xx"] == 0, f"5xx answers: {fivexx[:5]}")
    check(rss_end <= rss_start * 1.5 + 64 * 1024, f"RSS grew from {rss_start} to {rss_end} KiB")
    check(fds_end <= fds_start + 16, f"open descriptors grew from {fds_start} to {fds_end}")


def two_servers_send_each_reminder_once(cluster, binary):
    """Fault 4: two `serve` processes running reminder rounds on one database at once."""
    url = cluster.create_database("reminders")
    harness.run_backbone(["migrate"], url, executable=binary)
    key = harness.run_backbone(["keys", "create", "--role", "coordinator", "--name", "reminders"], url,
                               executable=binary)
    servers = [harness.Serve(url, executable=binary, extra_env={"REMINDER_INTERVAL_SECONDS": "3600"})]
    servers[0].wait_ready()
    harness.seed_registry(servers[0].port, key, neighborhoods=2)
    for partner in ("library", "school"):
        for indicator in ("learners", "pass_rate"):
            status, _, text = harness.request(
                servers[0].port, "POST", "/v1/commitments", {"partner": partner, "indicator": indicator}, key)
            check(status == 201, f"commitment {partner} {indicator}: {status} {text[:200]}")
    servers[0].terminate()
    # Committed long ago: every period of the last 400 days is missing, so each round has work.
    cluster.psql("UPDATE commitments SET created_at = now() - interval '3 years'", database="reminders")
    started = time.time()
    servers = [harness.Serve(url, executable=binary, extra_env={"REMINDER_INTERVAL_SECONDS": "1"}) for _ in range(2)]
    time.sleep(12)
    statuses = [server.terminate() for server in servers]
    sent = int(cluster.psql("SELECT count(*) FROM reminders_sent", database="reminders"))
    events = int(cluster.psql("SELECT count(*) FROM outbox_events WHERE type LIKE 'reminder.%'", database="reminders"))
    orphans = int(cluster.psql(
        "SELECT count(*) FROM outbox_events e WHERE type LIKE 'reminder.%' "
        "AND NOT EXISTS (SELECT FROM reminders_sent r WHERE r.event_id = e.id)", database="reminders"))
    repeated = int(cluster.psql(
        "SELECT count(*) FROM (SELECT 1 FROM outbox_events WHERE type LIKE 'reminder.%' "
        "GROUP BY partner_id, data->>'indicator', data->>'period', type HAVING count(*) > 1) AS twice",
        database="reminders"))
    digests = int(cluster.psql("SELECT count(*) FROM outbox_events WHERE type = 'digest.overdue'", database="reminders"))
    print(f"two servers, reminder rounds every second for {time.time() - started:.0f} s: {sent} reminders recorded, "
          f"{events} reminder events, {repeated} repeated, {digests} digest(s), exits {statuses}", flush=True)
    check(all(status == 0 for status in statuses), f"serve exited {statuses}")
    check(sent > 50, f"only {sent} reminders recorded")
    check(events == sent and orphans == 0 and repeated == 0,
          f"{events} reminder events for {sent} recorded ({orphans} unrecorded, {repeated} repeated)")
    check(digests == 1, f"{digests} overdue digests for one agenda and day")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--soak-seconds", type=int, default=30)
    parser.add_argument("--binary", default=harness.binary())
    arguments = parser.parse_args()
    started = time.time()
    cluster = harness.Cluster("faults")
    serve = None
    try:
        url = cluster.create_database("faults")
        harness.run_backbone(["migrate"], url, executable=arguments.binary)
        key = harness.run_backbone(["keys", "create", "--role", "coordinator", "--name", "faults"], url,
                                   executable=arguments.binary)
        serve = harness.Serve(url, executable=arguments.binary)
        serve.wait_ready()
        harness.seed_registry(serve.port, key, neighborhoods=NEIGHBORHOODS)
        keys = Keys()
        database_outage(cluster, "faults", serve, key, keys)
        sigterm_during_upload(cluster, "faults", serve, key, keys)
        serve = harness.Serve(url, executable=arguments.binary)
        serve.wait_ready()
        soak(cluster, serve, key, keys, arguments.soak_seconds)
        status = serve.terminate()
        check(status == 0, f"serve exited {status} after the soak")
        serve = None
        two_servers_send_each_reminder_once(cluster, arguments.binary)
        webhooks.run(cluster, arguments.binary, check)
    finally:
        if serve is not None:
            serve.terminate(10)
        cluster.remove()
    print(f"faults: {len(failures)} failed checks in {time.time() - started:.0f} s", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
