#!/usr/bin/env python3
"""Backbone benchmark driver (run through bench/run.sh, which starts PostgreSQL and builds).

Generates a reproducible synthetic deployment, starts the release server, and measures
side by side: HTTP ingest against psql \\copy, reports against the raw GROUP BY they
replace, registry reads against /healthz, and the server's memory across ingest rounds.
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import packet
import webhooks

MONTHS = [f"{2024 + (10 + m) // 12}-{(10 + m) % 12 + 1:02d}" for m in range(24)]  # 2024-11 … 2026-10
AGE_GROUPS = ["16-24", "25-44", "45+"]
PARTNERS = 200
AGENDAS = ["literacy", "health", "jobs", "housing"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, port, key):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.headers = {"Authorization": f"Bearer {key}"}

    def request(self, method, path, body=None, content_type="application/json"):
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closes connections left idle past its timeout; open a new one.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        data = response.read()
        if response.status >= 400:
            raise SystemExit(f"{method} {path}: {response.status} {data[:500]!r}")
        return data


class Deployment:
    """The registry and the measurement keys, derived from the seed."""

    def __init__(self, seed):
        rng = random.Random(seed)
        self.seed = seed
        self.indicators = []
        methods = ["sum", "sum", "sum", "mean", "ratio", "last", "min", "max"]
        for i in range(48):
            method = methods[i % len(methods)]
            value_type = {"ratio": "percent", "mean": "score"}.get(method, "count")
            self.indicators.append({
                "code": f"ind{i:02d}", "agenda": AGENDAS[i % len(AGENDAS)], "name": f"Indicator {i}",
                "value_type": value_type, "aggregation": method, "period_type": "month",
                "baseline": {"period": MONTHS[0], "value": 100}, "target": {"period": "2027-12", "value": 400},
                "dimensions": [{"name": "age_group", "values": AGE_GROUPS}] if i % 4 == 0 else [],
            })
        self.neighborhoods = [("city", None)]
        self.leaves = []
        for d in range(6):
            self.neighborhoods.append((f"d{d}", "city"))
            for n in range(9):
                code = f"d{d}n{n}"
                self.neighborhoods.append((code, f"d{d}"))
                self.leaves.append(code)
        self.populations = {code: rng.randint(2000, 40000) for code, _ in self.neighborhoods}
        self.partners = [f"p{p:03d}" for p in range(PARTNERS)]

    def rows(self, count, part, first_slot=None):
        """`count` measurement rows (partner, indicator, neighborhood, month, dims, value, num, den) whose
        natural keys differ from every other part's, so each part creates new measurements. Part `part`
        takes the slots from `part` × its rows per partner and month, or from `first_slot` when given."""
        rng = random.Random(self.seed * 1000 + part)
        per_partner_month = self.per_partner_month(count)
        first_slot = part * per_partner_month if first_slot is None else first_slot
        assert first_slot + per_partner_month <= self.combinations(), "size too large for the synthetic registry"
        produced = 0
        # Partner by partner, as partners upload their history: a batch holds one partner's rows.
        for p, partner in enumerate(self.partners):
            for month in MONTHS:
                for k in range(per_partner_month):
                    if produced == count:
                        return
                    # 7919 is prime to the number of combinations, so distinct k give distinct slots.
                    slot = ((k + first_slot) * 7919 + p * 104729) % self.combinations()
                    indicator = self.indicators[slot % len(self.indicators)]
                    neighborhood = self.leaves[(slot // len(self.indicators) + p) % len(self.leaves)]
                    dims = {"age_group": AGE_GROUPS[(p + k) % 3]} if indicator["dimensions"] else {}
                    if indicator["aggregation"] == "ratio":
                        den = rng.randint(10, 60)
                        yield (partner, indicator["code"], neighborhood, month, dims, None, rng.randint(0, den), den)
                    else:
                        yield (partner, indicator["code"], neighborhood, month, dims, rng.randint(0, 500), None, None)
                    produced += 1

    @staticmethod
    def per_partner_month(count):
        return max(1, -(-count // (PARTNERS * len(MONTHS))))

    def combinations(self):
        return len(self.indicators) * len(self.leaves)


def json_row(partner, indicator, neighborhood, month, dims, value, num, den):
    """One generated row as the API's JSON measurement."""
    row = {"partner": partner, "indicator": indicator, "neighborhood": neighborhood, "period": month}
    if dims:
        row["dimensions"] = dims
    if value is None:
        row["numerator"], row["denominator"] = num, den
    else:
        row["value"] = value
    return row


def serve(backbone, env, key, stderr=subprocess.DEVNULL, arguments=()):
    """`backbone serve` on a free port, once it answers `/readyz`: (process, port)."""
    port = free_port()
    process = subprocess.Popen([backbone, "serve", "--port", str(port), *arguments], env=env,
                               stdout=subprocess.DEVNULL, stderr=stderr)
    for _ in range(100):
        try:
            Client(port, key).request("GET", "/readyz")
            break
        except (OSError, SystemExit):
            time.sleep(0.1)
    return process, port


def common_arguments(parser, size):
    """The options every bench script over a throwaway PostgreSQL takes."""
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--psql", required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--size", type=int, default=size)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)


def json_batches(rows, size=1000):
    batch = []
    for generated in rows:
        batch.append(json_row(*generated))
        if len(batch) == size:
            yield json.dumps({"measurements": batch}).encode(), size
            batch = []
    if batch:
        yield json.dumps({"measurements": batch}).encode(), len(batch)


def csv_batches(rows, size=1000):
    header = "partner,indicator,neighborhood,period,value,numerator,denominator,dim.age_group\n"
    lines, n = [header], 0
    for partner, indicator, neighborhood, month, dims, value, num, den in rows:
        lines.append(f"{partner},{indicator},{neighborhood},{month},{'' if value is None else value},"
                     f"{'' if num is None else num},{'' if den is None else den},{dims.get('age_group', '')}\n")
        n += 1
        if n == size:
            yield "".join(lines).encode(), n
            lines, n = [header], 0
    if n:
        yield "".join(lines).encode(), n


def send_concurrently(port, key, batches, content_type, clients=4):
    """Posts pre-built bodies over `clients` keep-alive connections; returns rows per second."""
    queue = list(batches)
    total = sum(n for _, n in queue)
    lock = threading.Lock()
    errors = []

    def work():
        client = Client(port, key)
        while True:
            with lock:
                if not queue:
                    return
                body, _ = queue.pop()
            try:
                client.request("POST", "/v1/measurements", body, content_type)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
                return

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"ingest failed: {errors[0]}")
    return total / elapsed, total, elapsed


def rss_kib(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def cpu_seconds(pids):
    """User plus system CPU time the processes have used so far."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids(socket_dir):
    """The benchmark cluster's postmaster and its children (not every postgres on the machine:
    other clusters' backends come and go, which made the CPU difference negative)."""
    with open(os.path.join(socket_dir, "data", "postmaster.pid")) as pidfile:
        postmaster = int(pidfile.readline())
    pids = [postmaster]
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit():
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == postmaster:
                        pids.append(int(entry))
        except (FileNotFoundError, ProcessLookupError):
            pass  # a backend that exited between the listing and the read
    return pids


def percentiles(samples):
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def time_http(client, path, runs, before=None):
    """p50/p99 of `runs` GETs of `path`; `before` runs untimed ahead of each."""
    samples = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        client.request("GET", path)
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def reports_computed(client):
    """How many indicator reports the server has computed (not given as kept), from /metrics."""
    text = client.request("GET", "/metrics").decode()
    match = re.search(r'^backbone_reports_total\{[^}]*report="indicator"[^}]*source="computed"[^}]*\} ([0-9.e+]+)$', text, re.M)
    return int(float(match.group(1))) if match else 0


def time_sql(psql, socket_dir, sql, runs):
    """Runs `sql` `runs` times in one psql session; returns p50/p99 of the server-side times."""
    script = "\\timing on\n" + (sql + "\n") * runs
    output = subprocess.run([psql, "-h", socket_dir, "-U", "postgres", "-d", "bench", "-q", "-o", "/dev/null"],
                            input=script, capture_output=True, text=True, check=True).stdout
    samples = [float(value) for value in re.findall(r"Time: ([0-9.]+) ms", output)]
    return percentiles(samples)


def wrk(port, path, key, seconds):
    result = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", "-H", f"Authorization: Bearer {key}",
                             f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", result).group(1))


def measure_reads(nio_example, port, key, seconds, rounds):
    example_port = free_port()
    example = subprocess.Popen([nio_example, "127.0.0.1", str(example_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", example_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        targets = [("nio_example", example_port, "/"), ("healthz", port, "/healthz"), ("indicator", port, "/v1/indicators/ind01")]

        def alternate(targets):
            """Requests per second of each target, round by round (the targets take turns)."""
            samples = {name: [] for name, _, _ in targets}
            for _ in range(rounds):
                for name, target_port, path in targets:
                    samples[name].append(round(wrk(target_port, path, key, seconds)))
            return samples

        load_before = os.getloadavg()[0]
        samples = alternate(targets)
        load_after = os.getloadavg()[0]
        # The same two at load 10: ten processes spinning on the 2 cores beside them, as a
        # neighbour's build would (the example and /healthz alternate, as above).
        spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(10)]
        try:
            time.sleep(seconds)  # the load average climbs over about a minute; the spinning is immediate
            loaded = alternate(targets[:2])
            load_loaded = os.getloadavg()[0]
        finally:
            for spinner in spinners:
                spinner.kill()
                spinner.wait()
    finally:
        example.terminate()
        example.wait(timeout=30)
    rps = {name: statistics.median(values) for name, values in samples.items()}
    loaded_rps = {name: statistics.median(values) for name, values in loaded.items()}
    return {"nio_example_rps": round(rps["nio_example"]), "healthz_rps": round(rps["healthz"]), "indicator_rps": round(rps["indicator"]),
            "healthz_ratio_to_nio_example": round(rps["healthz"] / rps["nio_example"], 3),
            "ratio": round(rps["indicator"] / rps["healthz"], 3),
            "rounds_rps": samples, "load_average": [round(load_before, 2), round(load_after, 2)],
            "at_load_10": {"nio_example_rps": round(loaded_rps["nio_example"]), "healthz_rps": round(loaded_rps["healthz"]),
                           "healthz_ratio_to_nio_example": round(loaded_rps["healthz"] / loaded_rps["nio_example"], 3),
                           "rounds_rps": loaded, "load_average": round(load_loaded, 2)}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--psql", required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--nio-example", required=True, help="SwiftNIO's NIOHTTP1Server example, the ceiling of /healthz")
    parser.add_argument("--size", default="quick", help="quick (120,000 rows), large (10,000,000) or a row count")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    size = {"quick": 120_000, "large": 10_000_000}.get(args.size) or int(args.size)
    deployment = Deployment(args.seed)
    # LOG_LEVEL info is the default: one request line per request, written to a file as a
    # log collector would receive it (deleted afterwards).
    # Its periods are released by the bench, timed, not by the server's automatic round
    # during the ingest (every synthetic month ended over 45 days ago).
    # The bench's webhook receiver listens on 127.0.0.1, which the address check refuses by default.
    env = dict(os.environ, LOG_LEVEL="info", DATABASE_POOL_SIZE="8", RELEASE_AFTER_DAYS="3650",
               WEBHOOK_ALLOW_PRIVATE_NETWORKS="on")
    key = subprocess.run([args.backbone, "keys", "create", "--role", "coordinator"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    os.makedirs("bench/results", exist_ok=True)
    # Three servers on the one database: the default one (quality checks and submission
    # events on) serves everything; one with QUALITY_CHECKS=off and one with
    # SUBMISSION_EVENTS=off each take two ingest rounds, so that what the checks and the
    # event outbox cost is measured in the same run, on the same data.
    servers, logs = [], []
    try:
        for name, checks, events in [("server-log", "on", "on"), ("server-off-log", "off", "on"),
                                     ("server-no-events-log", "on", "off")]:
            log_path = f"bench/results/{name}.tmp"
            log = open(log_path, "wb")
            logs.append((log, log_path))
            servers.append(serve(args.backbone, dict(env, QUALITY_CHECKS=checks, SUBMISSION_EVENTS=events), key,
                                 stderr=log, arguments=("--max-body-bytes", str(256 * 1024 * 1024))))
        (server, port), unchecked, without_events = servers
        return run(args, deployment, size, key, port, server, unchecked, without_events)
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=60)
        for log, log_path in logs:
            log.close()
            os.unlink(log_path)


def register(client, deployment):
    """The deployment's agendas, neighborhoods, partners and indicators, and a validation rule, through the API."""
    for agenda in AGENDAS:
        client.request("POST", "/v1/agendas", json.dumps({"id": agenda, "name": agenda.title()}).encode())
    for code, parent in deployment.neighborhoods:
        client.request("POST", "/v1/neighborhoods", json.dumps(
            {"code": code, "name": code, "parent": parent, "population": deployment.populations[code]}).encode())
    for partner in deployment.partners:
        client.request("POST", "/v1/partners", json.dumps({"id": partner, "name": partner, "kind": "nonprofit"}).encode())
    for indicator in deployment.indicators:
        client.request("POST", "/v1/indicators", json.dumps(indicator).encode())
    # A rule reading two sum indicators of the literacy agenda, evaluated in every cell a
    # batch writes either of them.
    client.request("POST", "/v1/rules", json.dumps(
        {"id": "ind08-within-ind00", "agenda": "literacy", "name": "ind08 within ten times ind00",
         "left": "ind08", "operator": "<=", "right": "10 * ind00", "missing": "skip_if_any_missing"}).encode())


def run(args, deployment, size, key, port, server, unchecked, without_events):
    client = Client(port, key)
    register(client, deployment)

    # Ingest: seven JSON rounds of distinct rows, then the same number again as CSV. They
    # go, in the order A B C A C B A, to the default server (A), the one without quality
    # checks (B, `unchecked`) and the one without submission events (C, `without_events`):
    # each variant's rounds sit on average at the middle of the sequence, so a table that
    # grows (or a machine that gets busier) weighs on all three alike, and A against B and
    # C measures what the checks and the outbox cost. The first round also carries the
    # warm-up (an empty table, cold caches), which leans against A.
    round_size = max(1000, size // 8)
    order = ["A", "B", "C", "A", "C", "B", "A"]
    results = {"size": size, "seed": args.seed}
    rounds = []
    peak_rss = 0
    cpu = {"server": 0.0, "postgres": 0.0, "elapsed": 0.0}
    for number, variant in enumerate(order):
        checked, events = variant != "B", variant != "C"
        target, target_port = unchecked if not checked else without_events if not events else (server, port)
        batches = list(json_batches(deployment.rows(round_size, part=number)))
        server_before, postgres_before = cpu_seconds([target.pid]), cpu_seconds(postgres_pids(args.socket))
        rate, rows, elapsed = send_concurrently(target_port, key, batches, "application/json")
        if checked and events:
            cpu["server"] += cpu_seconds([target.pid]) - server_before
            cpu["postgres"] += cpu_seconds(postgres_pids(args.socket)) - postgres_before
            cpu["elapsed"] += elapsed
        rss, hwm = rss_kib(target.pid)
        peak_rss = max(peak_rss, hwm)
        rounds.append({"rows": rows, "seconds": round(elapsed, 2), "rows_per_second": round(rate), "rss_mib": round(rss / 1024, 1),
                       "quality_checks": checked, "submission_events": events})
    csv_rows = list(deployment.rows(round_size, part=len(order)))
    csv_rate, _, _ = send_concurrently(port, key, list(csv_batches(csv_rows)), "text/csv")
    stored = int(subprocess.run([args.psql, "-h", args.socket, "-U", "postgres", "-d", "bench", "-tAc",
                                 "SELECT count(*) FROM measurements"], capture_output=True, text=True, check=True).stdout)

    # The ceiling: \copy of the same rows straight into an indexed copy of the table.
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as file:
        for partner, indicator, neighborhood, month, dims, value, num, den in csv_rows:
            key_text = json.dumps(dims, separators=(",", ":")) if dims else ""
            dims_text = json.dumps(dims).replace('"', '""')
            file.write(f'{partner},{indicator},{neighborhood},{month},{month}-01,"{key_text.replace(chr(34), chr(34) * 2)}","{dims_text}",'
                       f"{'' if value is None else value},{'' if num is None else num},{'' if den is None else den},"
                       f"00000000-0000-0000-0000-000000000000,bench\n")
        copy_file = file.name
    psql = [args.psql, "-h", args.socket, "-U", "postgres", "-d", "bench", "-q", "-v", "ON_ERROR_STOP=1"]
    # A single \copy takes about a second and its rate swings by a third between runs on a
    # shared machine: the ceiling is the median of three, each into a fresh table.
    copy_rates = []
    for _ in range(3):
        subprocess.run(psql + ["-c", "CREATE TABLE copy_ceiling (LIKE measurements INCLUDING ALL)"], check=True)
        started = time.perf_counter()
        subprocess.run(psql + ["-c", f"\\copy copy_ceiling (partner_id, indicator_code, neighborhood_code, period, period_start, "
                                      f"dimension_key, dimensions, value, numerator, denominator, batch_id, updated_by) "
                                      f"FROM '{copy_file}' WITH (FORMAT csv)"], check=True)
        copy_rates.append(len(csv_rows) / (time.perf_counter() - started))
        subprocess.run(psql + ["-c", "DROP TABLE copy_ceiling"], check=True)
    copy_rate = statistics.median(copy_rates)
    os.unlink(copy_file)
    subprocess.run(psql + ["-c", "VACUUM ANALYZE"], check=True)

    json_rate = statistics.mean(r["rows_per_second"] for r in rounds if r["quality_checks"] and r["submission_events"])
    unchecked_rate = statistics.mean(r["rows_per_second"] for r in rounds if not r["quality_checks"])
    no_events_rate = statistics.mean(r["rows_per_second"] for r in rounds if not r["submission_events"])
    events = int(subprocess.run([args.psql, "-h", args.socket, "-U", "postgres", "-d", "bench", "-tAc",
                                 "SELECT count(*) FROM outbox_events WHERE type = 'measurements.submitted'"],
                                capture_output=True, text=True, check=True).stdout)
    flags = int(subprocess.run([args.psql, "-h", args.socket, "-U", "postgres", "-d", "bench", "-tAc",
                                "SELECT count(*) FROM quality_flags"], capture_output=True, text=True, check=True).stdout)
    results["ingest"] = {"json_rows_per_second": round(json_rate), "csv_rows_per_second": round(csv_rate),
                         "json_unchecked_rows_per_second": round(unchecked_rate),
                         "checked_ratio_to_unchecked": round(json_rate / unchecked_rate, 3), "flags_opened": flags,
                         "json_without_events_rows_per_second": round(no_events_rate),
                         "events_ratio_to_without": round(json_rate / no_events_rate, 3), "submission_events": events,
                         "copy_rows_per_second": round(copy_rate), "copy_runs_rows_per_second": [round(r) for r in copy_rates], "json_ratio_to_copy": round(json_rate / copy_rate, 3),
                         "csv_ratio_to_copy": round(csv_rate / copy_rate, 3), "rounds": rounds, "stored": stored,
                         "cpu_seconds_json": {name: round(value, 1) for name, value in cpu.items()}}
    results["memory"] = {"peak_rss_mib": round(peak_rss / 1024, 1), "rss_after_rounds_mib": [r["rss_mib"] for r in rounds]}

    # Reports: a 24-month by-neighborhood report and the scorecard, against the raw SQL they replace.
    # A p99 needs at least a hundred samples to be more than the slowest one: 200 through
    # HTTP. The raw SQL takes a second per run at 10M rows, so it gets 50 (its p99 is its maximum).
    http_runs, sql_runs = 200, 50
    profiler = None
    if os.environ.get("BENCH_PROFILE"):  # e.g. BENCH_PROFILE=/tmp/reports.perf: perf samples the server during reports
        profiler = subprocess.Popen(["perf", "record", "-F", "2000", "-g", "-p", str(server.pid), "-o", os.environ["BENCH_PROFILE"]],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    report_path = f"/v1/reports/indicators/ind00?by=neighborhood,period&from={MONTHS[0]}&to={MONTHS[-1]}"
    report = time_http(client, report_path, http_runs)
    # Asked again while nothing changes, the report is given as rendered; computed afresh,
    # it is what the first request after an upload costs. A measurement of another
    # indicator, corrected before each request, moves the database on without changing it.
    corrections = iter(range(10**9))

    def correct_another_indicator():
        row = {"partner": deployment.partners[0], "indicator": "ind01", "neighborhood": deployment.leaves[0],
               "period": MONTHS[0], "value": 1000 + next(corrections) % 2}
        client.request("POST", "/v1/measurements", json.dumps({"measurements": [row]}).encode())

    report_computed = time_http(client, report_path, http_runs, before=correct_another_indicator)
    raw_report = time_sql(args.psql, args.socket,
                          f"SELECT neighborhood_code, period, sum(value), count(*), count(DISTINCT partner_id), min(value), "
                          f"max(value), avg(value) FROM measurements WHERE indicator_code = 'ind00' AND period_start >= "
                          f"'{MONTHS[0]}-01' AND period_start < '2026-11-01' GROUP BY 1, 2;", sql_runs)
    scorecard = time_http(client, "/v1/reports/scorecard?agenda=literacy", http_runs)
    raw_scorecard = time_sql(args.psql, args.socket,
                             "SELECT m.indicator_code, m.period, sum(m.value), sum(m.numerator) / nullif(sum(m.denominator), 0), "
                             "count(*) FROM measurements m JOIN indicators i ON i.code = m.indicator_code "
                             "WHERE i.agenda_id = 'literacy' GROUP BY 1, 2;", sql_runs)
    # A stock (aggregation `last`, ind05): by month, and each series' latest over the 24 months.
    stock_path = f"/v1/reports/indicators/ind05?by=neighborhood,period&from={MONTHS[0]}&to={MONTHS[-1]}"
    stock = time_http(client, stock_path, http_runs)
    raw_stock = time_sql(args.psql, args.socket,
                         f"SELECT neighborhood_code, period, sum(value), count(*), count(DISTINCT partner_id) FROM measurements "
                         f"WHERE indicator_code = 'ind05' AND period_start >= '{MONTHS[0]}-01' AND period_start < '2026-11-01' "
                         f"GROUP BY 1, 2;", sql_runs)
    latest_path = f"/v1/reports/indicators/ind05?by=neighborhood&from={MONTHS[0]}&to={MONTHS[-1]}"
    latest = time_http(client, latest_path, http_runs)
    raw_latest = time_sql(args.psql, args.socket,
                          f"SELECT neighborhood_code, sum(value), count(*) FROM (SELECT DISTINCT ON (partner_id, neighborhood_code, "
                          f"dimension_key) neighborhood_code, value FROM measurements WHERE indicator_code = 'ind05' AND period_start "
                          f">= '{MONTHS[0]}-01' AND period_start < '2026-11-01' ORDER BY partner_id, neighborhood_code, dimension_key, "
                          f"period_start DESC) latest GROUP BY 1;", sql_runs)
    if profiler:
        profiler.send_signal(2)
        profiler.wait()

    # What a viewer key sees: the same report cut from releases. The literacy agenda's 24
    # months are released first (each protected once, against every single reader), timed.
    release_seconds = []
    for month in MONTHS:
        started = time.perf_counter()
        client.request("POST", "/v1/releases", json.dumps({"agenda": "literacy", "period": month}).encode())
        release_seconds.append(time.perf_counter() - started)
    viewer_key = json.loads(client.request("POST", "/v1/keys", json.dumps({"role": "viewer"}).encode()))["secret"]
    viewer = Client(port, viewer_key)
    viewer_report = time_http(viewer, report_path, http_runs)
    # Cut from the releases afresh each time: a write anywhere (not in what the viewer sees) first.
    viewer_computed = time_http(viewer, report_path, http_runs, before=correct_another_indicator)
    withheld = {}
    for name, path in [("by_neighborhood_period_24_months", report_path),
                       ("by_neighborhood_one_month", f"/v1/reports/indicators/ind00?by=neighborhood&period={MONTHS[-1]}"),
                       ("by_district_one_month", f"/v1/reports/indicators/ind00?by=neighborhood&level=1&period={MONTHS[-1]}"),
                       ("by_city_one_month", f"/v1/reports/indicators/ind00?by=neighborhood&level=0&period={MONTHS[-1]}"),
                       ("by_neighborhood_quarter", f"/v1/reports/indicators/ind00?by=neighborhood&period_type=quarter&period=2026-Q3"),
                       ("by_age_group_one_month", f"/v1/reports/indicators/ind00?by=dimension:age_group&period={MONTHS[-1]}")]:
        rows = json.loads(viewer.request("GET", path))["rows"]
        withheld[name] = {"rows": len(rows), "withheld": sum(1 for row in rows if row["suppressed"])}
    # The literacy agenda's board packet (its 12 indicators), now that its months are released.
    packet_result = packet.measure(client, f"http://127.0.0.1:{port}", key, "literacy", "2026-Q3", min(http_runs, 20),
                                   percentiles)
    results["reports"] = {
        "by_neighborhood_24_months": {"http_p50_ms": round(report[0], 2), "http_p99_ms": round(report[1], 2),
                                      "raw_sql_p50_ms": round(raw_report[0], 2), "raw_sql_p99_ms": round(raw_report[1], 2),
                                      "ratio_p50": round(report[0] / raw_report[0], 3),
                                      "computed_http_p50_ms": round(report_computed[0], 2),
                                      "computed_http_p99_ms": round(report_computed[1], 2),
                                      "computed_ratio_p50": round(report_computed[0] / raw_report[0], 3)},
        "scorecard": {"http_p50_ms": round(scorecard[0], 2), "http_p99_ms": round(scorecard[1], 2),
                      "raw_sql_p50_ms": round(raw_scorecard[0], 2), "raw_sql_p99_ms": round(raw_scorecard[1], 2),
                      "ratio_p50": round(scorecard[0] / raw_scorecard[0], 3)},
        "stock_by_neighborhood_period_24_months": {
            "http_p50_ms": round(stock[0], 2), "http_p99_ms": round(stock[1], 2), "raw_sql_p50_ms": round(raw_stock[0], 2),
            "raw_sql_p99_ms": round(raw_stock[1], 2), "ratio_p50": round(stock[0] / raw_stock[0], 3)},
        "stock_latest_by_neighborhood_24_months": {
            "http_p50_ms": round(latest[0], 2), "http_p99_ms": round(latest[1], 2), "raw_sql_p50_ms": round(raw_latest[0], 2),
            "raw_sql_p99_ms": round(raw_latest[1], 2), "ratio_p50": round(latest[0] / raw_latest[0], 3)},
        "viewer_by_neighborhood_24_months": {"http_p50_ms": round(viewer_report[0], 2), "http_p99_ms": round(viewer_report[1], 2),
                                             "computed_http_p50_ms": round(viewer_computed[0], 2),
                                             "computed_http_p99_ms": round(viewer_computed[1], 2), "from_releases": True},
        "release_month_seconds": {"median": round(statistics.median(release_seconds), 2), "max": round(max(release_seconds), 2),
                                  "total": round(sum(release_seconds), 1)},
        "viewer_withheld_cells": withheld,
        "board_packet": packet_result,
    }

    # Reads while partners write: the 24-month report, again and again, while 4 clients post
    # JSON batches of new rows (slots after the eight ingest parts), against \copy's rate.
    taken = (len(order) + 1) * Deployment.per_partner_month(round_size)
    concurrent_rows = min(2 * round_size, (deployment.combinations() - taken) * PARTNERS * len(MONTHS))
    batches = list(json_batches(deployment.rows(concurrent_rows, part=len(order) + 1, first_slot=taken)))
    ingest = {}

    def ingest_meanwhile():
        ingest["rate"], ingest["rows"], ingest["seconds"] = send_concurrently(port, key, batches, "application/json")

    # A webhook subscribed to every stored batch meanwhile (bench/webhooks.py).
    receiver = webhooks.Receiver()
    client.request("POST", "/v1/webhooks", json.dumps(
        {"url": receiver.url, "events": ["measurements.submitted"], "description": "bench"}).encode())
    first_event = webhooks.last_event(args.psql, args.socket)
    writer = threading.Thread(target=ingest_meanwhile)
    samples = []
    computed_before = reports_computed(client)
    writer.start()
    while writer.is_alive():
        started = time.perf_counter()
        client.request("GET", report_path)
        samples.append((time.perf_counter() - started) * 1000)
    writer.join()
    computed = reports_computed(client) - computed_before
    if "rate" not in ingest:
        raise SystemExit("the ingest beside the reports failed")
    during = percentiles(samples)
    results["webhooks_under_ingest"] = webhooks.measure(receiver, args.psql, args.socket, first_event, percentiles)
    receiver.close()
    results["reports_while_ingesting"] = {
        "report_p50_ms": round(during[0], 2), "report_p99_ms": round(during[1], 2), "reports": len(samples),
        "reports_computed": computed,
        "ingest_rows": ingest["rows"], "ingest_rows_per_second": round(ingest["rate"]),
        "ingest_ratio_to_copy": round(ingest["rate"] / copy_rate, 3)}

    # Reads: SwiftNIO's own NIOHTTP1Server example ("Hello World"), /healthz and a registry
    # read, 64 connections each. The three alternate round by round, so a neighbour's build
    # slows all of them alike; each figure is the median of its rounds.
    results["reads"] = measure_reads(args.nio_example, port, key, seconds=5 if size <= 200_000 else 10, rounds=3)

    results["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    results["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}
    os.makedirs("bench/results", exist_ok=True)
    path = f"bench/results/{results['date'].replace(':', '')[:17]}-{size}.json"
    with open(path, "w") as out:
        json.dump(results, out, indent=2)
    print_table(results, path)


def print_table(r, path):
    i, rep, rd, m, rw = r["ingest"], r["reports"], r["reads"], r["memory"], r["reports_while_ingesting"]
    lines = [
        f"Backbone benchmark — {r['size']:,} rows per run, seed {r['seed']}, {r['date']}",
        f"{'measure':44} {'backbone':>14} {'ceiling':>14} {'ratio':>8}",
        f"{'ingest JSON, 1,000-row batches, 4 clients':44} {i['json_rows_per_second']:>10,} r/s {i['copy_rows_per_second']:>10,} r/s {i['json_ratio_to_copy']:>8}",
        f"{'ingest CSV, 1,000-row batches, 4 clients':44} {i['csv_rows_per_second']:>10,} r/s {i['copy_rows_per_second']:>10,} r/s {i['csv_ratio_to_copy']:>8}",
        f"{'  JSON with quality checks vs without':44} {i['json_rows_per_second']:>10,} r/s {i['json_unchecked_rows_per_second']:>10,} r/s {i['checked_ratio_to_unchecked']:>8}   ({i['flags_opened']:,} flags opened)",
        f"{'  JSON with submission events vs without':44} {i['json_rows_per_second']:>10,} r/s {i['json_without_events_rows_per_second']:>10,} r/s {i['events_ratio_to_without']:>8}   ({i['submission_events']:,} events)",
        f"{'24-month by-neighborhood report p50':44} {rep['by_neighborhood_24_months']['http_p50_ms']:>11} ms {rep['by_neighborhood_24_months']['raw_sql_p50_ms']:>11} ms {rep['by_neighborhood_24_months']['ratio_p50']:>8}",
        f"{'24-month by-neighborhood report p99':44} {rep['by_neighborhood_24_months']['http_p99_ms']:>11} ms {rep['by_neighborhood_24_months']['raw_sql_p99_ms']:>11} ms",
        f"{'  the same computed afresh (a write before each)':44} {rep['by_neighborhood_24_months']['computed_http_p50_ms']:>8} / {rep['by_neighborhood_24_months']['computed_http_p99_ms']} ms {rep['by_neighborhood_24_months']['raw_sql_p50_ms']:>11} ms {rep['by_neighborhood_24_months']['computed_ratio_p50']:>8}",
        f"{'scorecard p50':44} {rep['scorecard']['http_p50_ms']:>11} ms {rep['scorecard']['raw_sql_p50_ms']:>11} ms {rep['scorecard']['ratio_p50']:>8}",
        f"{'scorecard p99':44} {rep['scorecard']['http_p99_ms']:>11} ms {rep['scorecard']['raw_sql_p99_ms']:>11} ms",
        *[f"{label:44} {rep[name]['http_p50_ms']:>8} / {rep[name]['http_p99_ms']} ms {rep[name]['raw_sql_p50_ms']:>8} / {rep[name]['raw_sql_p99_ms']} ms {rep[name]['ratio_p50']:>8}"
          for label, name in [("stock by neighborhood, month p50 / p99", "stock_by_neighborhood_period_24_months"),
                              ("stock latest over 24 months p50 / p99", "stock_latest_by_neighborhood_24_months")]],
        f"{'viewer: the 24-month report (releases) p50 / p99':44} {rep['viewer_by_neighborhood_24_months']['http_p50_ms']:>8} / {rep['viewer_by_neighborhood_24_months']['http_p99_ms']} ms",
        f"{'  the same cut afresh (a write before each)':44} {rep['viewer_by_neighborhood_24_months']['computed_http_p50_ms']:>8} / {rep['viewer_by_neighborhood_24_months']['computed_http_p99_ms']} ms",
        f"{'release of one month (literacy agenda), median / max':44} {rep['release_month_seconds']['median']:>8} / {rep['release_month_seconds']['max']} s",
        "viewer: withheld rows " + ", ".join(f"{name} {cell['withheld']}/{cell['rows']}" for name, cell in rep["viewer_withheld_cells"].items()),
        f"{'board packet page (literacy, 2026-Q3) p50 / p99':44} {rep['board_packet']['coordinator']['http_p50_ms']:>8} / {rep['board_packet']['coordinator']['http_p99_ms']} ms   "
        f"(public {rep['board_packet']['public']['http_p50_ms']} / {rep['board_packet']['public']['http_p99_ms']} ms; printed: {rep['board_packet']['pdf']})",
        f"{'GET /healthz (log on) vs NIOHTTP1Server example':44} {rd['healthz_rps']:>10,} r/s {rd['nio_example_rps']:>10,} r/s {rd['healthz_ratio_to_nio_example']:>8}",
        f"{'GET /v1/indicators/{code} vs /healthz':44} {rd['indicator_rps']:>10,} r/s {rd['healthz_rps']:>10,} r/s {rd['ratio']:>8}",
        f"{'  wrk rounds (example, healthz, indicator)':44} {rd['rounds_rps']}; load average {rd['load_average'][0]} → {rd['load_average'][1]}",
        f"{'  the same at load 10 (10 spinning processes)':44} {rd['at_load_10']['healthz_rps']:>10,} r/s {rd['at_load_10']['nio_example_rps']:>10,} r/s {rd['at_load_10']['healthz_ratio_to_nio_example']:>8}   (load average {rd['at_load_10']['load_average']})",
        f"{'the report while 4 clients ingest, p50 / p99':44} {rw['report_p50_ms']:>8} / {rw['report_p99_ms']} ms   ({rw['reports']} reports, {rw['reports_computed']} computed)",
        f"{'JSON ingest beside those reports vs psql copy':44} {rw['ingest_rows_per_second']:>10,} r/s {i['copy_rows_per_second']:>10,} r/s {rw['ingest_ratio_to_copy']:>8}",
        f"{'webhook: commit to first attempt, p50 / p99':44} {r['webhooks_under_ingest']['first_attempt_p50_ms']:>8} / {r['webhooks_under_ingest']['first_attempt_p99_ms']} ms   "
        f"({r['webhooks_under_ingest']['delivered']} of {r['webhooks_under_ingest']['events']} events delivered, {r['webhooks_under_ingest']['repeats']} repeats, during that ingest)",
        f"{'peak RSS during ingest':44} {m['peak_rss_mib']:>11} MiB   (after rounds: {m['rss_after_rounds_mib']})",
        f"JSON ingest CPU: server {i['cpu_seconds_json']['server']} s, PostgreSQL {i['cpu_seconds_json']['postgres']} s, "
        f"in {i['cpu_seconds_json']['elapsed']} s on {os.cpu_count()} cores",
        f"measurements stored: {i['stored']:,}; results: {path}",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
