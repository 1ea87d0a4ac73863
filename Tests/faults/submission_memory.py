#!/usr/bin/env python3
"""Peak memory of `backbone serve` for one ~32 MiB JSON submission, good rows and bad rows.

    python3 Tests/faults/submission_memory.py [--binary PATH] [--home DIR]

Each case runs a fresh server on its own database of a throwaway cluster, posts one body
just under the 32 MiB body limit (and one of 100,000 rows, the most a
submission may hold), and reports the process's peak RSS (VmHWM) before and
after, with the answer's status and time. Not part of CI (it takes a minute or two).
"""
import argparse
import json
import time

import harness


def body(good, limit=32 * 1024 * 1024 - 4096, max_rows=None):
    rows, size = [], 20
    age_groups = ["16-24", "25-44", "45+"]
    for partner in ("library", "school"):
        for n in range(40):
            for period in harness.weeks():
                for age in age_groups:
                    if good:
                        row = {"partner": partner, "indicator": "learners", "neighborhood": f"n{n}", "period": period,
                               "value": 12, "dimensions": {"age_group": age}}
                    else:  # five problems: indicator, neighborhood, period, value, dimension
                        row = {"partner": partner, "indicator": "nope", "neighborhood": f"x{n}", "period": period + "x",
                               "value": "12", "dimensions": {"age": age}}
                    text = json.dumps(row, separators=(",", ":"))
                    if size + len(text) + 1 > limit or len(rows) == max_rows:
                        return ('{"measurements":[' + ",".join(rows) + "]}").encode(), len(rows)
                    rows.append(text)
                    size += len(text) + 1
    return ('{"measurements":[' + ",".join(rows) + "]}").encode(), len(rows)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=harness.binary())
    parser.add_argument("--home", default=harness.ROOT)
    arguments = parser.parse_args()
    cluster = harness.Cluster("memory")
    try:
        cases = [(good, rows) for rows in (None, 100_000) for good in (False, True)]
        for good, max_rows in cases:
            payload, count = body(good, max_rows=max_rows)
            name = ("good" if good else "bad") + ("" if max_rows is None else "_capped")
            url = cluster.create_database(f"memory_{name}")
            harness.run_backbone(["migrate"], url, arguments.home, arguments.binary)
            key = harness.run_backbone(["keys", "create", "--role", "coordinator"], url, arguments.home, arguments.binary)
            serve = harness.Serve(url, arguments.home, arguments.binary)
            try:
                serve.wait_ready()
                harness.seed_registry(serve.port, key, neighborhoods=40)
                before = harness.rss_kib(serve.pid, "VmHWM")
                started = time.time()
                status, _, answer = harness.request(serve.port, "POST", "/v1/measurements", payload, key, timeout=600)
                elapsed = time.time() - started
                peak = harness.rss_kib(serve.pid, "VmHWM")
                summary = json.loads(answer)
                print(f"{name} rows: {count} in {len(payload) / 1048576:.1f} MiB -> {status} {summary.get('code', '')} "
                      f"in {elapsed:.1f} s; peak RSS {before / 1024:.0f} MiB before, {peak / 1024:.0f} MiB after "
                      f"({peak / 1024 / (len(payload) / 1048576):.1f}x the body)", flush=True)
            finally:
                serve.terminate()
    finally:
        cluster.remove()


if __name__ == "__main__":
    main()
