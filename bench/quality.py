#!/usr/bin/env python3
"""Outlier fixture and benchmark (issue 24, docs/quality.md "Outliers").

Generates realistic monthly series (flat, trending, seasonal, zero-heavy, small counts,
ratios, stocks, and a completed/enrolled pair), 36 months each, with known injected errors:
x10 slips, x0.1 slips (a dropped digit: a count is whole), swapped leading digits, a
year-to-date total entered as the month, completed > enrolled. Then prints, on the same
data, the recall and false-positive rate of

  (a) our check, through the server: each series' rows uploaded in period order as a dry
      run, the `outlier` warnings read by row;
  (b) DHIS2's z-score, |x - mean| / sd >= 3;
  (c) the modified z-score, 0.6745 |x - median| / MAD >= 3.5;

(b) and (c) over the same last 12 months before each point, a spread of 0 scoring 0 as in
DHIS2. Points scored: months 13 to 36 (a year of history before each; --months to change). An error counts
when it changes the value at least twofold; smaller ones (a transposition of close digits,
a cumulative total in a zero-heavy series) are listed on their own row.

    bench/quality.py --backbone .build/debug/backbone      # starts a server (DATABASE_URL)
    bench/quality.py --url http://127.0.0.1:8080 --key SECRET
    bench/quality.py --fixture-csv /tmp/quality.csv          # only writes the upload file
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import numpy as np

MONTHS = [f"{2023 + m // 12}-{m % 12 + 1:02d}" for m in range(36)]  # 2023-01 … 2025-12: index 0 is a January
SCORED = range(12, 36)  # month indexes scored by default: 13 to 36, a year of history before each
SHAPES = ["flat", "trending", "seasonal", "zero_heavy", "small_counts", "ratio", "stock", "pair"]
PARTNERS = [f"q{p:02d}" for p in range(50)]
NEIGHBORHOODS = [f"qn{n}" for n in range(10)]
ERROR_RATE = 0.05  # per month and series
MATERIAL = 2.0  # an error changes the value at least this many times (up or down)


# ---------------------------------------------------------------- the fixture

def transposed(value):
    """The value with its leftmost pair of differing adjacent digits swapped (418 → 148)."""
    digits = str(int(value))
    for i in range(len(digits) - 1):
        if digits[i] != digits[i + 1] and not (i == 0 and digits[i + 1] == "0"):
            return int(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:])
    return None


def clean_series(rng, shape):
    t = np.arange(len(MONTHS))
    n = len(MONTHS)
    if shape == "flat":  # a program reporting its capacity: the same number, now and then moved a little
        level = rng.integers(10, 400)
        values = np.full(n, level, dtype=float)
        moved = rng.random(n) < 0.2
        values[moved] += np.round(rng.normal(0, max(1, 0.03 * level), moved.sum()))
        return np.maximum(values, 0)
    if shape == "trending":
        mean = rng.uniform(40, 2000) * (1 + rng.uniform(-0.02, 0.04)) ** t
        return np.maximum(np.round(mean * (1 + rng.normal(0, 0.06, n))), 0)
    if shape == "seasonal":  # half smooth seasons, half a peak month (enrolment, winter) and its shoulder
        phase = rng.integers(12)
        if rng.random() < 0.5:
            season = 1 + rng.uniform(0.3, 0.7) * np.sin(2 * np.pi * (t + phase) / 12)
        else:
            peak = rng.uniform(2, 5)
            season = np.ones(n)
            season[(t + phase) % 12 == 0] = peak
            season[(t + phase) % 12 == 1] = (1 + peak) / 2
        mean = rng.uniform(40, 2000) * season * (1 + rng.uniform(-0.01, 0.02)) ** t
        return np.maximum(np.round(mean * (1 + rng.normal(0, 0.06, n))), 0)
    if shape == "zero_heavy":
        active = rng.random(n) < rng.uniform(0.1, 0.35)
        return np.where(active, rng.poisson(rng.uniform(1, 4), n) + 1, 0).astype(float)
    if shape == "small_counts":
        return rng.poisson(rng.uniform(2, 15), n).astype(float)
    if shape == "stock":  # people housed: a level that drifts, unchanged in some months
        level, drift, values = rng.uniform(30, 1500), rng.uniform(-0.005, 0.015), []
        for _ in range(n):
            if rng.random() < 0.7:
                level = max(0.0, level * (1 + drift) + rng.normal(0, 0.02 * level))
            values.append(round(level))
        return np.array(values, dtype=float)
    raise ValueError(shape)


def inject(rng, values, kinds):
    """Replaces some values by a slip of one of `kinds`; returns {month index: kind}."""
    clean = values.copy()
    errors = {}
    for i in range(1, len(values)):
        if rng.random() >= ERROR_RATE:
            continue
        for kind in rng.permutation(kinds):
            v = clean[i]
            if kind == "x10":
                new = v * 10
            elif kind == "x0.1":
                new = v // 10 if v >= 10 else None
            elif kind == "transposition":
                new = transposed(v) if v >= 10 else None
            else:  # cumulative: the year-to-date total (from the January of its year)
                new = clean[i - i % 12:i + 1].sum() if i % 12 else None
            if new is not None and new != v:
                values[i] = new
                errors[i] = str(kind)
                break
    return errors


class Series:
    """One partner's numbers for one indicator and neighborhood, as uploaded."""

    def __init__(self, shape, indicator, partner, neighborhood, values, errors, clean, denominators=None):
        self.shape, self.indicator, self.partner, self.neighborhood = shape, indicator, partner, neighborhood
        self.values, self.errors, self.denominators = values, errors, denominators
        self.clean = clean  # the values before the slips, as observed (rates for a ratio)

    def observed(self, i):
        """The value the check sees: a ratio's rate, any other value as sent."""
        return self.values[i] / self.denominators[i] if self.denominators is not None else self.values[i]

    def material(self, i):
        a, b = abs(self.clean[i]), abs(self.observed(i))
        return max(a, b) >= MATERIAL * min(a, b)

    def rows(self):
        for i, month in enumerate(MONTHS):
            row = {"partner": self.partner, "indicator": self.indicator, "neighborhood": self.neighborhood,
                   "period": month}
            if self.denominators is not None:
                row["numerator"], row["denominator"] = int(self.values[i]), int(self.denominators[i])
            else:
                row["value"] = int(self.values[i])
            yield row


def fixture(seed, per_shape):
    """The fixture's series, and the enrolled series that go with the pair's completions."""
    rng = np.random.default_rng(seed)
    flows = ["x10", "x0.1", "transposition", "cumulative"]
    series, companions = [], []
    for shape in SHAPES:
        for s in range(per_shape):
            partner, neighborhood = PARTNERS[s % len(PARTNERS)], NEIGHBORHOODS[s // len(PARTNERS)]
            denominators = None
            if shape == "ratio":  # completion rate: numerator over a denominator that varies
                denominators = np.maximum(np.round(rng.uniform(20, 500) * (1 + rng.normal(0, 0.08, len(MONTHS)))), 5)
                values = rng.binomial(denominators.astype(int), rng.uniform(0.2, 0.9)).astype(float)
                clean = values / denominators
                errors = inject(rng, values, ["x10", "x0.1", "transposition"])
            elif shape == "pair":
                enrolled = clean_series(rng, "trending")
                values = rng.binomial(enrolled.astype(int), rng.uniform(0.4, 0.8)).astype(float)
                clean = values.copy()
                errors = inject(rng, values, flows)
                for i in range(1, len(MONTHS)):
                    if i not in errors and rng.random() < 0.02:
                        values[i] = round(enrolled[i] * rng.uniform(1.05, 1.5))
                        errors[i] = "completed>enrolled"
                companions.append(Series("pair", "q_enrolled", partner, neighborhood, enrolled, {}, enrolled))
            else:
                values = clean_series(rng, shape)
                clean = values.copy()
                errors = inject(rng, values, ["x10", "x0.1", "transposition"] if shape == "stock" else flows)
            indicator = "q_completed" if shape == "pair" else f"q_{shape}"
            series.append(Series(shape, indicator, partner, neighborhood, values, errors, clean, denominators))
    return series, companions


def indicators():
    base = {"agenda": "quality", "period_type": "month", "baseline": {"period": MONTHS[0], "value": 1},
            "target": {"period": "2027-12", "value": 2}, "dimensions": []}
    made = []
    for code in ["q_flat", "q_trending", "q_seasonal", "q_zero_heavy", "q_small_counts", "q_enrolled", "q_completed"]:
        made.append(dict(base, code=code, name=code, value_type="count", aggregation="sum"))
    made.append(dict(base, code="q_ratio", name="q_ratio", value_type="rate", aggregation="ratio"))
    made.append(dict(base, code="q_stock", name="q_stock", value_type="count", aggregation="last"))
    return made


# ---------------------------------------------------------------- the three methods

def flagged_by_baselines(series, scored=SCORED):
    """{"DHIS2 z-score": the (series index, month index) it flags, "modified z": the same}."""
    z, modified = set(), set()
    for s, one in enumerate(series):
        for i in scored:
            history = np.array([one.observed(j) for j in range(max(0, i - 12), i)])
            x = one.observed(i)
            sd = history.std(ddof=1)
            if sd > 0 and abs(x - history.mean()) / sd >= 3:
                z.add((s, i))
            median = np.median(history)
            mad = np.median(np.abs(history - median))
            if mad > 0 and 0.6745 * abs(x - median) / mad >= 3.5:
                modified.add((s, i))
    return {"DHIS2 z-score": z, "modified z": modified}


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, url, key):
        parsed = urllib.parse.urlparse(url)
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def request(self, method, path, body=None, allow=()):
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=data, headers=self.headers)
                response = self.connection.getresponse()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()  # closed while idle: open a new one
                if attempt:
                    raise
        payload = response.read()
        if response.status >= 400 and response.status not in allow:
            raise SystemExit(f"{method} {path}: {response.status} {payload[:500]!r}")
        return json.loads(payload) if payload else None


def register(client):
    """The fixture's registry; what already exists (a second run on one server) is kept."""
    client.request("POST", "/v1/agendas", {"id": "quality", "name": "Data quality fixture"}, allow=(409,))
    client.request("POST", "/v1/neighborhoods", {"code": "qcity", "name": "Quality city", "population": 100000},
                   allow=(409,))
    for code in NEIGHBORHOODS:
        client.request("POST", "/v1/neighborhoods", {"code": code, "name": code, "parent": "qcity",
                                                     "population": 10000}, allow=(409,))
    for partner in PARTNERS:
        client.request("POST", "/v1/partners", {"id": partner, "name": partner, "kind": "nonprofit"}, allow=(409,))
    for indicator in indicators():
        client.request("POST", "/v1/indicators", indicator, allow=(409,))


def flagged_by_server(url, key, series, companions, per_request, clients=4):
    """{(series index, month index)} the server warns `outlier` about, in dry runs of
    `per_request` series at a time (each series' rows in period order)."""
    register(Client(url, key))
    companion = {(c.partner, c.neighborhood): c for c in companions}
    batches = []
    for first in range(0, len(series), per_request):
        rows, owners = [], []
        for s in range(first, min(first + per_request, len(series))):
            one = series[s]
            if one.shape == "pair":  # the enrolled the completions go with, for a rule to compare
                pair = companion[(one.partner, one.neighborhood)]
                rows += list(pair.rows())
                owners += [None] * len(MONTHS)
            rows += list(one.rows())
            owners += [(s, i) for i in range(len(MONTHS))]
        batches.append((rows, owners))
    flagged, lock, failures, truncated = set(), threading.Lock(), [], []

    def work():
        client = Client(url, key)
        while True:
            with lock:
                if not batches:
                    return
                rows, owners = batches.pop()
            try:
                summary = client.request("POST", "/v1/measurements?dry_run=true", {"measurements": rows})
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)
                return
            if summary.get("warnings_truncated"):
                truncated.append(len(rows))
            with lock:
                for warning in summary.get("warnings", []):
                    owner = owners[warning["row"]]  # JSON rows count from 0
                    if warning["code"] == "outlier" and owner is not None:
                        flagged.add(owner)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"upload failed: {failures[0]}")
    if truncated:
        raise SystemExit(f"{len(truncated)} dry runs had more warnings than listed: lower --per-request")
    return flagged


# ---------------------------------------------------------------- the table

def table(series, methods, scored=SCORED):
    """Recall and false-positive rate per method, overall, per shape and per kind of error."""
    groups = ["all"] + SHAPES + ["x10", "x0.1", "transposition", "cumulative", "completed>enrolled", "small (< 2x)"]
    counts = {name: {g: [0, 0, 0, 0] for g in groups} for name in methods}  # found, errors, false, clean
    for s, one in enumerate(series):
        for i in scored:
            kind = one.errors.get(i)
            for name, flagged in methods.items():
                hit = (s, i) in flagged
                if kind is None:
                    for group in ("all", one.shape):
                        counts[name][group][2] += hit
                        counts[name][group][3] += 1
                else:
                    for group in (("all", one.shape, kind) if one.material(i) else ("small (< 2x)",)):
                        counts[name][group][0] += hit
                        counts[name][group][1] += 1
    names = list(methods)
    lines = [f"{'':40}" + "".join(f"{name:>22}" for name in names),
             f"{'':40}" + "".join(f"{'recall':>11}{'FPR':>11}" for _ in names)]
    for group in groups:
        errors = counts[names[0]][group][1]
        clean = counts[names[0]][group][3]
        label = f"{group} ({errors} errors{', ' + str(clean) + ' clean' if clean else ''})"
        cells = ""
        for name in names:
            found, errors, false, clean = counts[name][group]
            cells += f"{found / errors:>11.3f}" if errors else f"{'':>11}"
            cells += f"{false / clean:>11.2%}" if clean else f"{'':>11}"
        lines.append(f"{label:40}{cells}")
    return "\n".join(lines), {name: counts[name]["all"] for name in names}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(backbone):
    """A server of `backbone` on DATABASE_URL (migrated here), and a coordinator key."""
    env = dict(os.environ, LOG_LEVEL="warning", RELEASE_AFTER_DAYS="3650")
    subprocess.run([backbone, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    key = subprocess.run([backbone, "keys", "create", "--role", "coordinator"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    port = free_port()
    server = subprocess.Popen([backbone, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            Client(url, key).request("GET", "/readyz")
            return server, url, key
        except (OSError, SystemExit):
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("the server did not become ready")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", help="a backbone binary to start on DATABASE_URL")
    parser.add_argument("--url", help="a running server instead (with --key, a coordinator's)")
    parser.add_argument("--key")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--per-shape", type=int, default=500, help="series of each shape")
    parser.add_argument("--per-request", type=int, default=4, help="series per dry run")
    parser.add_argument("--months", default="13-36", help="the months scored, FIRST-LAST (from 3: the baselines "
                        "need 2 earlier values; before 13 the server needs OUTLIER_MIN_HISTORY lowered)")
    parser.add_argument("--fixture-csv", help="write the fixture as one upload file here and stop")
    args = parser.parse_args()
    first, _, last = args.months.partition("-")
    scored = range(max(2, int(first) - 1), min(len(MONTHS), int(last or first)))
    series, companions = fixture(args.seed, args.per_shape)
    if args.fixture_csv:
        with open(args.fixture_csv, "w") as out:
            out.write("partner,indicator,neighborhood,period,value,numerator,denominator\n")
            for one in companions + series:
                for row in one.rows():
                    out.write(f"{row['partner']},{row['indicator']},{row['neighborhood']},{row['period']},"
                              f"{row.get('value', '')},{row.get('numerator', '')},{row.get('denominator', '')}\n")
        return
    if not (args.backbone or (args.url and args.key)):
        parser.error("give --backbone, or --url and --key")
    methods = {}
    server = None
    if args.backbone:
        server, args.url, args.key = start_server(args.backbone)
    try:
        started = time.perf_counter()
        methods["Backbone"] = flagged_by_server(args.url, args.key, series, companions, args.per_request)
        elapsed = time.perf_counter() - started
    finally:
        if server:
            server.terminate()
            server.wait(timeout=60)
    methods.update(flagged_by_baselines(series, scored))
    text, overall = table(series, methods, scored)
    print(f"Outliers: {len(series)} series x {len(MONTHS)} months, seed {args.seed}, months {scored.start + 1}-"
          f"{scored.stop} scored; "
          f"dry runs took {elapsed:.1f} s")
    print(text)
    ours = overall["Backbone"]
    recall, fpr = ours[0] / ours[1], ours[2] / ours[3]
    better = all(recall > o[0] / o[1] and fpr < o[2] / o[3] for name, o in overall.items() if name != "Backbone")
    print(f"targets (recall >= 0.9 at FPR <= 2 %, better than both on both): "
          f"recall {'met' if recall >= 0.9 else 'MISSED'}, FPR {'met' if fpr <= 0.02 else 'MISSED'}, "
          f"{'better than both' if better else 'NOT better than both'}")


if __name__ == "__main__":
    sys.exit(main())
