#!/usr/bin/env python3
"""`measurements` as the migrations make it (A) against the same table declaratively
partitioned by period_start (B, bench/partition.sql), in one run (through bench/partition10m.sh).

For each database in turn, on its own release server: bench.py's synthetic deployment loaded
through the write triggers by SQL (stock10m.load), a JSON ingest through HTTP on top (new
rows, 1,000-row batches, 4 clients, as bench.py's ingest beside the reports), a check that
the service works unchanged on the table (updates, unchanged rows, a read, a retraction),
the reports bench.py times, each computed afresh (a correction of another indicator before
each, untimed; the cases interleaved round by round so a swing in the machine's load lands
on all of them), EXPLAIN (ANALYZE, BUFFERS) of the report queries that read
`measurements`, and the sizes of every table and index with their scans.
  partition10m.py --backbone BIN --psql PSQL --socket DIR [--size ROWS] [--ingest ROWS] [--runs N] [--keep]
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the generator, clients, batches and percentiles the full benchmark uses)
import stock10m  # noqa: E402  (the load through the write triggers)

MONTHS = bench.MONTHS


def sql(args, database, statement, *extra):
    """Runs `statement` in `database` with psql; returns its unaligned, tuples-only output."""
    return subprocess.run([args.psql, "-h", args.socket, "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
                           "-tA", *extra, "-c", statement], capture_output=True, text=True, check=True).stdout.strip()


def rows_of(args, database, statement):
    return [line.split("|") for line in sql(args, database, statement, "-F", "|").splitlines() if line]


def start_server(args, database):
    env = dict(os.environ, DATABASE_URL=f"host={args.socket} dbname={database} user=postgres", LOG_LEVEL="warning",
               DATABASE_POOL_SIZE="8", RELEASE_AFTER_DAYS="3650")
    key = subprocess.run([args.backbone, "keys", "create", "--role", "coordinator"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    server, port = bench.serve(args.backbone, env, key, stderr=open(f"/tmp/partition10m-{database}.log", "wb"))
    return server, port, key


def attempt(client, method, path, body=None):
    """The response's JSON, or the error (status and body) where bench.Client gives up."""
    try:
        data = client.request(method, path, None if body is None else json.dumps(body).encode())
        return {"ok": True, "body": json.loads(data) if data else None}
    except SystemExit as error:
        return {"ok": False, "error": str(error)[:400]}


def service_check(args, database, client, deployment):
    """What the service does with the table beyond plain inserts: a batch of stored rows
    with new values (updates: the insert that assumes all rows new fails on the natural key
    and the writer falls back to looking them up), the same batch again (unchanged), a
    mixed batch, a read, the history, a retraction, and that the rollups still agree."""
    stored = deployment.rows(1000, part=0)
    batch = []
    for partner, indicator, neighborhood, month, dims, value, num, den in stored:
        # The same rows, each with a new value.
        batch.append(bench.json_row(partner, indicator, neighborhood, month, dims,
                                    None if value is None else value + 1, num, None if den is None else den + 1))
    check = {"update_1000_stored_rows": attempt(client, "POST", "/v1/measurements", {"measurements": batch})}
    check["same_batch_again"] = attempt(client, "POST", "/v1/measurements", {"measurements": batch})
    # Ten stored rows and one new one, in a year no yearly partition holds (B: the default partition).
    fresh = {"partner": deployment.partners[1], "indicator": "ind01", "neighborhood": deployment.leaves[1],
             "period": "2023-06", "value": 7}
    mixed = batch[:10] + [fresh]
    check["mixed_new_and_stored"] = attempt(client, "POST", "/v1/measurements", {"measurements": mixed})
    for name in check:
        body = check[name].get("body")
        if isinstance(body, dict):  # the counts only, not every row's echo
            check[name]["body"] = {k: v for k, v in body.items() if not isinstance(v, (list, dict)) or k in ("summary", "counts")}
    ident = sql(args, database, "SELECT id FROM measurements WHERE period_start = '2025-06-01' ORDER BY id LIMIT 1")
    check["read_by_id"] = {"ok": attempt(client, "GET", f"/v1/measurements/{ident}")["ok"]}
    check["history_by_id"] = {"ok": attempt(client, "GET", f"/v1/measurements/{ident}/history")["ok"]}
    check["retract_by_id"] = attempt(client, "DELETE", f"/v1/measurements/{ident}")
    check["read_after_retraction"] = attempt(client, "GET", f"/v1/measurements/{ident}")
    check["read_after_retraction"].pop("body", None)
    # The rollups against the measurements they summarize, for one indicator.
    check["rollups_agree_ind00"] = sql(args, database, """
        SELECT count(*) = 0 FROM (
          SELECT indicator_code, period_start, neighborhood_code, dimension_key, count(*) AS n, sum(value) AS s
          FROM measurements WHERE indicator_code = 'ind00' GROUP BY 1, 2, 3, 4
          EXCEPT SELECT indicator_code, period_start, neighborhood_code, dimension_key, measurements, sum_value
          FROM measurement_rollups WHERE indicator_code = 'ind00') d""") == "t"
    check["all_ok"] = all(v.get("ok", True) if isinstance(v, dict) else v for k, v in check.items()
                          if k != "read_after_retraction")
    return check


REPORTS = [
    # name, path: the requests bench.py times, and the single-period report its viewer reads.
    ("24_months_by_neighborhood_period", f"/v1/reports/indicators/ind00?by=neighborhood,period&from={MONTHS[0]}&to={MONTHS[-1]}"),
    ("single_period_by_neighborhood", f"/v1/reports/indicators/ind00?by=neighborhood&period={MONTHS[-1]}"),
    ("scorecard", "/v1/reports/scorecard?agenda=literacy"),
    ("stock_by_neighborhood_24_months", f"/v1/reports/indicators/ind05?by=neighborhood&from={MONTHS[0]}&to={MONTHS[-1]}"),
    ("stock_by_neighborhood_year_back", f"/v1/reports/indicators/ind05?by=neighborhood&from={MONTHS[0]}&to={MONTHS[11]}"),
]


def time_reports(client, deployment, runs):
    """Each report computed afresh: a correction of another indicator's measurement (ind01,
    untimed) moves the database's snapshot on before each request. Round by round."""
    corrections = iter(range(10**9))

    def correct_another_indicator():
        row = {"partner": deployment.partners[0], "indicator": "ind01", "neighborhood": deployment.leaves[0],
               "period": MONTHS[0], "value": 1000 + next(corrections) % 2}
        client.request("POST", "/v1/measurements", json.dumps({"measurements": [row]}).encode())

    samples = {name: [] for name, _ in REPORTS}
    kept = []
    for _ in range(runs):
        for name, path in REPORTS:
            correct_another_indicator()
            started = time.perf_counter()
            client.request("GET", path)
            samples[name].append((time.perf_counter() - started) * 1000)
        client.request("GET", REPORTS[0][1])  # computed for this snapshot; asked again, it is given as kept
        started = time.perf_counter()
        client.request("GET", REPORTS[0][1])
        kept.append((time.perf_counter() - started) * 1000)
    result = {}
    for name, values in samples.items():
        p50, p99 = bench.percentiles(values)
        result[name] = {"http_p50_ms": round(p50, 2), "http_p99_ms": round(p99, 2)}
    p50, p99 = bench.percentiles(kept)
    result["24_months_by_neighborhood_period_kept"] = {"http_p50_ms": round(p50, 2), "http_p99_ms": round(p99, 2)}
    return result


EXPLAINED = {
    # ReportSource.latestPerSeries when the range ends before the indicator's latest data:
    # the report query that reads the most of `measurements`.
    "stock_latest_year_back": f"""
        SELECT latest.neighborhood_code, max(latest.period), min(latest.dimensions::text), string_agg(p.number::text, ','),
               count(*), coalesce(sum(latest.value), 0), coalesce(sum(latest.numerator), 0),
               coalesce(sum(latest.denominator), 0), coalesce(min(latest.value), 0), coalesce(max(latest.value), 0)
        FROM (SELECT DISTINCT ON (partner_id, neighborhood_code, dimension_key)
                     partner_id, neighborhood_code, dimension_key, dimensions, period, value, numerator, denominator
              FROM measurements WHERE indicator_code = 'ind05' AND period_start >= '{MONTHS[0]}-01' AND period_start < '{MONTHS[12]}-01'
              ORDER BY partner_id, neighborhood_code, dimension_key, period_start DESC) latest
        JOIN partners p ON p.id = latest.partner_id GROUP BY latest.neighborhood_code, latest.dimension_key""",
    # ReportSource.partials: the 24-month report's rollup read (never touches `measurements`).
    "rollups_24_months": f"""
        SELECT neighborhood_code, period, dimensions::text, partner_list, measurements, sum_value, sum_numerator,
               sum_denominator, min_value, max_value FROM measurement_rollups
        WHERE indicator_code = 'ind00' AND period_start >= '{MONTHS[0]}-01' AND period_start < '2026-11-01'""",
    # OpenFlags.count: the coordinator's standing flags joined to their measurements by id.
    "open_flags_24_months": f"""
        SELECT f.partner_id, f.neighborhood_code, f.period, coalesce(m.dimensions::text, ''), count(*)
        FROM quality_flags f LEFT JOIN measurements m ON m.id = f.measurement_id
        WHERE f.indicator_code = 'ind00' AND f.status IN ('open', 'explained')
          AND f.period_start >= '{MONTHS[0]}-01' AND f.period_start < '2026-11-01' GROUP BY 1, 2, 3, 4""",
}


def explain(args, database):
    plans = {}
    for name, statement in EXPLAINED.items():
        sql(args, database, statement)  # warm, as the timed reports ran it
        plan = sql(args, database, "EXPLAIN (ANALYZE, BUFFERS) " + statement)
        lines = plan.splitlines()
        execution = next((float(line.split(":")[1].split()[0]) for line in lines if line.startswith("Execution Time")), None)
        planning = next((float(line.split(":")[1].split()[0]) for line in lines if line.startswith("Planning Time")), None)
        plans[name] = {"execution_ms": execution, "planning_ms": planning, "plan": lines}
    return plans


def sizes(args, database):
    """Every table of the schema (a partitioned table with its partitions), its indexes,
    rows, and each index's scans."""
    tables = {}
    for name, total, heap, indexes, kind in rows_of(args, database, """
            SELECT c.relname,
                   sum(pg_total_relation_size(t.relid)), sum(pg_relation_size(t.relid)), sum(pg_indexes_size(t.relid)), c.relkind
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN LATERAL (SELECT relid FROM pg_partition_tree(c.oid) UNION SELECT c.oid) t
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            GROUP BY c.relname, c.relkind ORDER BY 2 DESC"""):
        tables[name] = {"total_bytes": int(total), "heap_bytes": int(heap), "indexes_bytes": int(indexes),
                        "partitioned": kind == "p"}
    for name in tables:
        tables[name]["rows"] = int(sql(args, database, f'SELECT count(*) FROM "{name}"'))
    index_rows = rows_of(args, database, """
        SELECT coalesce(pi.relname, s.indexrelname), coalesce(pt.relname, s.relname),
               sum(pg_relation_size(s.indexrelid)), sum(s.idx_scan), count(*)
        FROM pg_stat_user_indexes s
        LEFT JOIN pg_inherits ih ON ih.inhrelid = s.indexrelid LEFT JOIN pg_class pi ON pi.oid = ih.inhparent
        LEFT JOIN pg_inherits th ON th.inhrelid = s.relid LEFT JOIN pg_class pt ON pt.oid = th.inhparent
        GROUP BY 1, 2 ORDER BY 3 DESC""")
    indexes = {name: {"table": table, "bytes": int(size), "idx_scan": int(scans), "partitions": int(parts)}
               for name, table, size, scans, parts in index_rows}
    return tables, indexes


def index_scans(args, database):
    time.sleep(1.5)  # backends flush their statistics at most once a second
    return {name: int(scans) for name, scans in rows_of(args, database, """
        SELECT coalesce(pi.relname, s.indexrelname), sum(s.idx_scan) FROM pg_stat_user_indexes s
        LEFT JOIN pg_inherits ih ON ih.inhrelid = s.indexrelid LEFT JOIN pg_class pi ON pi.oid = ih.inhparent GROUP BY 1""")}


def postgres_cpu(args):
    """CPU seconds the cluster has used: its live processes, and through the postmaster's
    cutime and cstime the backends that have exited (each psql statement's)."""
    with open(os.path.join(args.socket, "data", "postmaster.pid")) as pidfile:
        postmaster = int(pidfile.readline())
    with open(f"/proc/{postmaster}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return bench.cpu_seconds(bench.postgres_pids(args.socket)) + (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def run_database(args, database, partitioned, deployment):
    result = {"database": database, "partitioned": partitioned, "load_average": {}}
    server, port, key = start_server(args, database)
    try:
        client = bench.Client(port, key)
        result["load_average"]["start"] = os.getloadavg()
        load_args = argparse.Namespace(**vars(args), dbname=database)
        cpu_before = postgres_cpu(args)
        result["load_seconds"] = {k: round(v, 1) for k, v in stock10m.load(load_args, deployment, port, key).items()}
        # Staging, the insert through the triggers and the VACUUM ANALYZE: the share of the
        # machine's load that was ours, less swayed by neighbours than the wall time.
        result["load_postgres_cpu_seconds"] = round(postgres_cpu(args) - cpu_before, 1)
        result["load_rows_per_second"] = round(args.size / result["load_seconds"]["inserted"])
        result["load_average"]["after_load"] = os.getloadavg()

        # New rows on top, through HTTP: the slots after the load's four parts.
        taken = 4 * bench.Deployment.per_partner_month(args.size // 4)
        batches = list(bench.json_batches(deployment.rows(args.ingest, part=4, first_slot=taken)))
        cpu_before, server_before = postgres_cpu(args), bench.cpu_seconds([server.pid])
        rate, rows, elapsed = bench.send_concurrently(port, key, batches, "application/json")
        result["http_ingest"] = {"rows": rows, "seconds": round(elapsed, 1), "rows_per_second": round(rate),
                                 "postgres_cpu_seconds": round(postgres_cpu(args) - cpu_before, 1),
                                 "server_cpu_seconds": round(bench.cpu_seconds([server.pid]) - server_before, 1)}
        print(f"{database}: HTTP ingest {rows:,} rows in {elapsed:.1f} s ({rate:,.0f} rows/s)", flush=True)
        result["load_average"]["after_ingest"] = os.getloadavg()

        result["service_check"] = service_check(args, database, client, deployment)
        print(f"{database}: service check {'ok' if result['service_check']['all_ok'] else 'FAILED'}", flush=True)
        sql(args, database, "ANALYZE")

        scans_before = index_scans(args, database)
        result["reports"] = time_reports(client, deployment, args.runs)
        scans_after = index_scans(args, database)
        result["index_scans_during_reports"] = {name: scans_after.get(name, 0) - scans_before.get(name, 0)
                                                for name in scans_after if scans_after.get(name, 0) != scans_before.get(name, 0)}
        result["load_average"]["after_reports"] = os.getloadavg()
        for name, figures in result["reports"].items():
            print(f"{database}: {name:40} {figures['http_p50_ms']:8.2f} / {figures['http_p99_ms']:.2f} ms", flush=True)
        result["explain"] = explain(args, database)
        result["tables"], result["indexes"] = sizes(args, database)
    finally:
        server.terminate()
        server.wait(timeout=60)
    return result


def print_table(results, path):
    a, b = results["A"], results["B"]
    lines = [f"measurements partitioned or not — {results['size']:,} rows loaded, seed {results['seed']}, {results['date']}, "
             f"{results['order'][0]} measured first",
             f"{'measure':48} {'A (as migrated)':>20} {'B (partitioned)':>20} {'B / A':>7}"]

    def line(label, va, vb, unit):
        ratio = f"{vb / va:7.2f}" if va else ""
        lines.append(f"{label:48} {va:>16,.1f} {unit:3} {vb:>16,.1f} {unit:3} {ratio}")

    line("load through the write triggers", a["load_seconds"]["inserted"], b["load_seconds"]["inserted"], "s")
    line("  rows per second", a["load_rows_per_second"], b["load_rows_per_second"], "r/s")
    line("  PostgreSQL CPU (staging, insert, VACUUM ANALYZE)", a["load_postgres_cpu_seconds"], b["load_postgres_cpu_seconds"], "s")
    line(f"HTTP JSON ingest of {a['http_ingest']['rows']:,} rows on top", a["http_ingest"]["seconds"], b["http_ingest"]["seconds"], "s")
    line("  rows per second", a["http_ingest"]["rows_per_second"], b["http_ingest"]["rows_per_second"], "r/s")
    line("  PostgreSQL CPU", a["http_ingest"]["postgres_cpu_seconds"], b["http_ingest"]["postgres_cpu_seconds"], "s")
    line("  server CPU", a["http_ingest"]["server_cpu_seconds"], b["http_ingest"]["server_cpu_seconds"], "s")
    for name in a["reports"]:
        for q in ("p50", "p99"):
            line(f"{name} {q}", a["reports"][name][f"http_{q}_ms"], b["reports"][name][f"http_{q}_ms"], "ms")
    for name in a["explain"]:
        line(f"EXPLAIN ANALYZE {name}", a["explain"][name]["execution_ms"] or 0, b["explain"][name]["execution_ms"] or 0, "ms")
    for table in ("measurements", "measurement_rollups", "series_latest", "measurement_history", "quality_flags"):
        if table in a["tables"] and table in b["tables"]:
            line(f"{table} total size", a["tables"][table]["total_bytes"] / 2**20, b["tables"][table]["total_bytes"] / 2**20, "MiB")
    lines.append(f"service check on B: {'ok' if b['service_check']['all_ok'] else 'FAILED'}; on A: "
                 f"{'ok' if a['service_check']['all_ok'] else 'FAILED'}")
    lines.append("load average (1 min) A: " + ", ".join(f"{k} {v[0]:.2f}" for k, v in a["load_average"].items())
                 + "; B: " + ", ".join(f"{k} {v[0]:.2f}" for k, v in b["load_average"].items()))
    lines.append(f"\nA, {results['size']:,} rows: tables (total / heap / indexes MiB, rows)")
    for name, t in a["tables"].items():
        lines.append(f"  {name:34} {t['total_bytes'] / 2**20:9.1f} {t['heap_bytes'] / 2**20:9.1f} {t['indexes_bytes'] / 2**20:9.1f} {t['rows']:>12,}")
    lines.append("A: indexes (MiB, idx_scan in all, idx_scan during the reports)")
    for name, index in a["indexes"].items():
        lines.append(f"  {name:52} {index['bytes'] / 2**20:9.1f} {index['idx_scan']:>12,} {a['index_scans_during_reports'].get(name, 0):>9,}")
    lines.append(f"results: {path}")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser()
    bench.common_arguments(parser, size=10_000_000)
    parser.add_argument("--ingest", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the first database while the second is loaded (twice the disk)")
    parser.add_argument("--order", choices=["AB", "BA"], default="AB", help="BA measures B first (does the order matter?)")
    args = parser.parse_args()
    results = {"size": args.size, "seed": args.seed, "runs": args.runs, "ingest_rows": args.ingest,
               "settings": sql(args, "postgres", "SELECT string_agg(name || '=' || setting, ', ') FROM pg_settings "
                                                 "WHERE name IN ('shared_buffers', 'max_wal_size', 'work_mem', 'server_version')")}
    results["order"] = args.order
    databases = {"A": ("bench_a", False), "B": ("bench_b", True)}
    for position, label in enumerate(args.order):
        database, partitioned = databases[label]
        results[label] = run_database(args, database, partitioned, bench.Deployment(args.seed))
        if position == 0 and not args.keep:
            sql(args, "postgres", f"DROP DATABASE {database}")  # the disk for the second (two 10M databases did not fit)
            sql(args, "postgres", "CHECKPOINT")
    results["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    results["machine"] = {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()}
    os.makedirs("bench/results", exist_ok=True)
    order = "" if args.order == "AB" else "-ba"
    path = f"bench/results/{results['date'].replace(':', '')[:17]}-partition{order}-{args.size}.json"
    with open(path, "w") as out:
        json.dump(results, out, indent=2)
    print_table(results, path)


if __name__ == "__main__":
    sys.exit(main())
