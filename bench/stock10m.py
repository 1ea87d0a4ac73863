#!/usr/bin/env python3
"""A stock indicator's reports at scale (run through bench/stock10m.sh).

Loads bench.py's synthetic deployment without going through HTTP ingest (\\copy into a
staging table, then one INSERT ... SELECT per partner, so the write triggers build the
rollups and each series' latest as uploads would), then times the stock (`last`, ind05)
reports through HTTP against the raw SQL they replace.
  stock10m.py --backbone BIN --psql PSQL --socket DIR [--size ROWS] [--phase load|measure|both]
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the generator, clients and timers the full benchmark uses)


def psql_command(args):
    # bench/partition10m.py loads two databases through load(): it sets args.dbname.
    return [args.psql, "-h", args.socket, "-U", "postgres", "-d", getattr(args, "dbname", "bench"), "-q", "-v", "ON_ERROR_STOP=1"]


def load(args, deployment, port, key):
    client = bench.Client(port, key)
    bench.register(client, deployment)

    psql = psql_command(args)
    subprocess.run(psql + ["-c", "CREATE UNLOGGED TABLE load_rows (partner_id text, indicator_code text, neighborhood_code text, period text, "
                           "period_start date, dimension_key text, dimensions jsonb, value float8, numerator float8, "
                           "denominator float8, batch_id uuid, updated_by text)"], check=True)
    seconds = {}
    started = time.perf_counter()
    # The same four parts as bench.py's four ingest rounds.
    for part in range(4):
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as file:
            for partner, indicator, neighborhood, month, dims, value, num, den in deployment.rows(args.size // 4, part=part):
                key_text = json.dumps(dims, separators=(",", ":")) if dims else ""
                dims_text = (key_text or "{}").replace('"', '""')
                file.write(f'{partner},{indicator},{neighborhood},{month},{month}-01,"{key_text.replace(chr(34), chr(34) * 2)}",'
                           f'"{dims_text}",{"" if value is None else value},{"" if num is None else num},'
                           f'{"" if den is None else den},00000000-0000-0000-0000-000000000000,bench\n')
            path = file.name
        subprocess.run(psql + ["-c", f"\\copy load_rows (partner_id, indicator_code, neighborhood_code, period, period_start, "
                                      f"dimension_key, dimensions, value, numerator, denominator, batch_id, updated_by) "
                                      f"FROM '{path}' WITH (FORMAT csv)"], check=True)
        os.unlink(path)
    seconds["staged"] = time.perf_counter() - started
    print(f"staged {args.size:,} rows in {seconds['staged']:.0f} s", flush=True)
    started = time.perf_counter()
    # One statement per partner, in the generator's order (each partner's months in turn).
    script = "".join(
        f"INSERT INTO measurements (partner_id, indicator_code, neighborhood_code, period, period_start, dimension_key, "
        f"dimensions, value, numerator, denominator, batch_id, updated_by, created_by, created_batch_id) "
        f"SELECT partner_id, indicator_code, neighborhood_code, period, period_start, dimension_key, dimensions, value, "
        f"numerator, denominator, batch_id, updated_by, updated_by, batch_id FROM load_rows WHERE partner_id = '{partner}' "
        f"ORDER BY period_start;\n" for partner in deployment.partners)
    subprocess.run(psql, input=script, text=True, check=True)
    seconds["inserted"] = time.perf_counter() - started
    print(f"inserted through the write triggers in {seconds['inserted']:.0f} s", flush=True)
    subprocess.run(psql + ["-c", "DROP TABLE load_rows"], check=True)
    started = time.perf_counter()
    subprocess.run(psql + ["-c", "VACUUM ANALYZE"], check=True)
    seconds["vacuum_analyze"] = time.perf_counter() - started
    return seconds


def measure(args, port, key):
    client = bench.Client(port, key)
    months = bench.MONTHS
    http_runs, sql_runs = args.runs, 50
    span = f"period_start >= '{months[0]}-01' AND period_start < '2026-11-01'"
    cases = [
        ("for comparison: a sum (ind00) by neighborhood, month",
         f"/v1/reports/indicators/ind00?by=neighborhood,period&from={months[0]}&to={months[-1]}",
         f"SELECT neighborhood_code, period, sum(value), count(*), count(DISTINCT partner_id), min(value), max(value), "
         f"avg(value) FROM measurements WHERE indicator_code = 'ind00' AND {span} GROUP BY 1, 2;"),
        ("stock by neighborhood and month, 24 months",
         f"/v1/reports/indicators/ind05?by=neighborhood,period&from={months[0]}&to={months[-1]}",
         f"SELECT neighborhood_code, period, sum(value), count(*), count(DISTINCT partner_id) FROM measurements "
         f"WHERE indicator_code = 'ind05' AND {span} GROUP BY 1, 2;"),
        ("stock, each series' latest over 24 months",
         f"/v1/reports/indicators/ind05?by=neighborhood&from={months[0]}&to={months[-1]}",
         f"SELECT neighborhood_code, sum(value), count(*) FROM (SELECT DISTINCT ON (partner_id, neighborhood_code, "
         f"dimension_key) neighborhood_code, value FROM measurements WHERE indicator_code = 'ind05' AND {span} "
         f"ORDER BY partner_id, neighborhood_code, dimension_key, period_start DESC) latest GROUP BY 1;"),
        ("stock, each series' latest, a range ending a year back",
         f"/v1/reports/indicators/ind05?by=neighborhood&from={months[0]}&to={months[11]}",
         f"SELECT neighborhood_code, sum(value), count(*) FROM (SELECT DISTINCT ON (partner_id, neighborhood_code, "
         f"dimension_key) neighborhood_code, value FROM measurements WHERE indicator_code = 'ind05' AND period_start >= "
         f"'{months[0]}-01' AND period_start < '{months[12]}-01' ORDER BY partner_id, neighborhood_code, dimension_key, "
         f"period_start DESC) latest GROUP BY 1;"),
    ]
    results = {"size": args.size, "runs": http_runs}
    for label, path, sql in cases:
        http = bench.time_http(client, path, http_runs)
        raw = bench.time_sql(args.psql, args.socket, sql, sql_runs)
        results[label] = {"http_p50_ms": round(http[0], 2), "http_p99_ms": round(http[1], 2),
                          "raw_sql_p50_ms": round(raw[0], 2), "raw_sql_p99_ms": round(raw[1], 2),
                          "ratio_p50": round(http[0] / raw[0], 3)}
        print(f"{label:52} {http[0]:8.1f} / {http[1]:.1f} ms   raw {raw[0]:8.1f} / {raw[1]:.1f} ms   "
              f"ratio {http[0] / raw[0]:.3f}", flush=True)
    results["date"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    os.makedirs("bench/results", exist_ok=True)
    path = f"bench/results/{results['date'].replace(':', '')[:17]}-stock-{args.size}.json"
    with open(path, "w") as out:
        json.dump(results, out, indent=2)
    print(f"results: {path}")


def main():
    parser = argparse.ArgumentParser()
    bench.common_arguments(parser, size=10_000_000)
    parser.add_argument("--phase", choices=["load", "measure", "both"], default="both")
    args = parser.parse_args()
    env = dict(os.environ, LOG_LEVEL="warning", DATABASE_POOL_SIZE="8")
    key = subprocess.run([args.backbone, "keys", "create", "--role", "coordinator"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    server, port = bench.serve(args.backbone, env, key)
    try:
        if args.phase in ("load", "both"):
            load(args, bench.Deployment(args.seed), port, key)
        if args.phase in ("measure", "both"):
            measure(args, port, key)
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
