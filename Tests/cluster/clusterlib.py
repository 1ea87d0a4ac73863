"""Helpers shared by the cluster checkers (read_your_writes.py, faults.py): the topology
scripts/cluster.sh wrote down in CLUSTER_DIR/cluster.env, keep-alive HTTP callers, the
Prometheus text of /metrics, PostgreSQL's pg_ctl as the `postgres` user, percentiles.

Standard library only.
"""
import http.client
import json
import os
import re
import shlex
import subprocess
import time
import urllib.parse

AGENDA = "cluster"
INDICATOR = "cluster_count"
PARTNER = "cluster-partner"
NEIGHBORHOOD = "cluster-n"
PERIOD = "2025-01"  # long started and released, so every key reads its story and report


def load_env(cluster_dir):
    """CLUSTER_DIR/cluster.env (KEY=shell-quoted value lines) as a dict."""
    values = {}
    with open(os.path.join(cluster_dir, "cluster.env")) as env:
        for line in env:
            line = line.rstrip("\n")
            if not line or "=" not in line:
                continue
            name, raw = line.split("=", 1)
            parts = shlex.split(raw)
            values[name] = parts[0] if parts else ""
    with open(values["COORDINATOR_KEY_FILE"]) as key:
        values["COORDINATOR_KEY"] = key.read().strip()
    return values


class Response:
    __slots__ = ("status", "headers", "body", "seconds")

    def __init__(self, status, headers, body, seconds):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    def json(self):
        return json.loads(self.body)


class Caller:
    """One API caller (one key) and what it carries between its requests, whichever node
    they go to: the cookies a node set (Set-Cookie), and the values of any response header
    named in `echo_headers` (sent back on later requests). A server that hands a writer a
    token for read-your-writes that way gets it back on every node."""

    def __init__(self, key, echo_headers=()):
        self.key = key
        self.cookies = {}
        self.echo_names = [name.lower() for name in echo_headers]
        self.echoed = {}

    def headers(self):
        sent = {"Authorization": f"Bearer {self.key}"}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(self.echoed)
        return sent

    def remember(self, header_pairs):
        for name, value in header_pairs:
            lower = name.lower()
            if lower == "set-cookie":
                pair = value.split(";", 1)[0]
                if "=" in pair:
                    k, v = pair.split("=", 1)
                    self.cookies[k.strip()] = v.strip()
            elif lower in self.echo_names:
                self.echoed[name] = value


class Connection:
    """A keep-alive HTTP/1.1 connection to one base URL, reopened when the server closed it."""

    def __init__(self, base_url, timeout=15):
        parsed = urllib.parse.urlsplit(base_url)
        self.host, self.port, self.timeout = parsed.hostname, parsed.port or 80, timeout
        self.base_url = base_url
        self.connection = None

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def request(self, method, path, caller=None, body=None, headers=None):
        """(Response); raises OSError/HTTPException when no answer came at all."""
        sent = dict(caller.headers() if caller else {})
        sent.update(headers or {})
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        for attempt in (0, 1):
            reused = self.connection is not None
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers=sent)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server closed between two requests: once more,
                # on a new one (the request never reached a handler).
                self.close()
                if reused and attempt == 0:
                    continue
                raise
            except Exception:
                self.close()
                raise
            seconds = time.perf_counter() - started
            pairs = response.getheaders()
            if caller:
                caller.remember(pairs)
            if response.will_close:
                self.close()
            return Response(response.status, {k.lower(): v for k, v in pairs}, data, seconds)
        raise AssertionError("unreachable")


def wait_until(condition, timeout, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if condition():
                return True
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(interval)
    return False


def seed_registry(connection, admin):
    """The agenda, indicator, partner and neighborhood the checkers write to (409: already there)."""
    bodies = [
        ("/v1/agendas", {"id": AGENDA, "name": "Cluster checks", "starts_on": "2000-01-01"}),
        ("/v1/indicators", {"code": INDICATOR, "agenda": AGENDA, "name": "Cluster count", "value_type": "count",
                            "aggregation": "sum", "period_type": "month"}),
        ("/v1/partners", {"id": PARTNER, "name": "Cluster partner", "kind": "library"}),
        ("/v1/neighborhoods", {"code": NEIGHBORHOOD, "name": "Cluster neighborhood", "population": 1000}),
    ]
    for path, body in bodies:
        response = connection.request("POST", path, admin, body)
        if response.status not in (201, 409):
            raise SystemExit(f"seeding {path}: {response.status} {response.body[:300]!r}")


def create_key(connection, admin, role, name, with_id=False):
    """A new key's secret (and its id, `with_id`)."""
    response = connection.request("POST", "/v1/keys", admin, {"role": role, "name": name})
    if response.status != 201:
        raise SystemExit(f"creating a {role} key: {response.status} {response.body[:300]!r}")
    created = response.json()
    return (created["secret"], created["id"]) if with_id else created["secret"]


def prepare(cluster_dir, echo_headers, writer_name, reader_role, reader_name):
    """The cluster's nodes, its coordinator, and a new writer (coordinator) and reader key,
    once both nodes know the seeded registry and both keys (setup is not what is measured)."""
    env = load_env(cluster_dir)
    nodes = [env["NODE1_URL"], env["NODE2_URL"]]
    admin = Caller(env["COORDINATOR_KEY"], echo_headers)
    setup = Connection(nodes[0])
    seed_registry(setup, admin)
    writer = Caller(create_key(setup, admin, "coordinator", writer_name), echo_headers)
    reader = Caller(create_key(setup, admin, reader_role, reader_name), echo_headers)
    for url in nodes:
        connection = Connection(url)
        for caller in (writer, reader):
            if not wait_until(lambda: connection.request("GET", f"/v1/indicators/{INDICATOR}", caller).status == 200, 15):
                raise SystemExit(f"setup: {url} did not know the indicator and the new keys within 15 s")
        connection.close()
    setup.close()
    return env, nodes, admin, writer, reader


def story_path(period=PERIOD):
    return f"/v1/stories/{INDICATOR}/{period}"


def measurement_body(value, note):
    return {"measurements": [{"partner": PARTNER, "indicator": INDICATOR, "neighborhood": NEIGHBORHOOD,
                              "period": PERIOD, "value": value, "note": note}]}


MEASUREMENT_QUERY = (f"/v1/measurements?indicator={INDICATOR}&partner={PARTNER}"
                     f"&neighborhood={NEIGHBORHOOD}&period={PERIOD}")
REPORT_QUERY = f"/v1/reports/indicators/{INDICATOR}?period={PERIOD}"


# Prometheus text format ----------------------------------------------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value}"""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        if not match:
            continue
        labels = frozenset(LABEL.findall(match.group(2) or ""))
        try:
            samples[(match.group(1), labels)] = float(match.group(3))
        except ValueError:
            pass
    return samples


def scrape(connection, admin):
    """One node's /metrics, parsed; None when it could not be read."""
    try:
        response = connection.request("GET", "/metrics", admin)
    except (OSError, http.client.HTTPException):
        return None
    if response.status != 200:
        return None
    return parse_metrics(response.body.decode("utf-8", "replace"))


def metric_sum(samples, name, **labels):
    """The sum of every sample of `name` whose labels include `labels`; None when none exists."""
    found, total = False, 0.0
    wanted = set(labels.items())
    for (sample_name, sample_labels), value in samples.items():
        if sample_name == name and wanted <= set(sample_labels):
            found, total = True, total + value
    return total if found else None


def reads_by_target(samples):
    """{"primary": n, "replica": n} from backbone_database_reads_total, or None when absent."""
    if samples is None:
        return None
    primary = metric_sum(samples, "backbone_database_reads_total", target="primary")
    replica = metric_sum(samples, "backbone_database_reads_total", target="replica")
    if primary is None and replica is None:
        return None
    return {"primary": primary or 0.0, "replica": replica or 0.0}


def replica_wait(samples):
    """backbone_replica_wait_seconds as {count, sum, buckets: {le: n}, quantiles: {q: v}}, or None."""
    if samples is None:
        return None
    name = "backbone_replica_wait_seconds"
    count = metric_sum(samples, name + "_count")
    if count is None:
        return None
    buckets, quantiles = {}, {}
    for (sample_name, labels), value in samples.items():
        labels = dict(labels)
        if sample_name == name + "_bucket" and "le" in labels:
            le = float("inf") if labels["le"] == "+Inf" else float(labels["le"])
            buckets[le] = buckets.get(le, 0.0) + value
        elif sample_name == name and "quantile" in labels:
            quantiles[labels["quantile"]] = value
    return {"count": count, "sum": metric_sum(samples, name + "_sum") or 0.0, "buckets": buckets,
            "quantiles": quantiles}


def wait_delta(before, after):
    """What the replica waits of one window say: count, mean and (from histogram buckets) the
    bucket bounds under which 50 % and 99 % of the waits fell; None when the metric is absent."""
    if after is None:
        return None
    before = before or {"count": 0.0, "sum": 0.0, "buckets": {}}
    count = after["count"] - before["count"]
    result = {"waits": int(count), "mean_ms": round(1000 * (after["sum"] - before["sum"]) / count, 2) if count else None}
    if after["buckets"] and count:
        deltas = sorted((le, after["buckets"][le] - before["buckets"].get(le, 0.0)) for le in after["buckets"])
        for label, share in (("p50_le_ms", 0.5), ("p99_le_ms", 0.99)):
            for le, cumulative in deltas:
                if cumulative >= share * count:
                    result[label] = "+Inf" if le == float("inf") else round(le * 1000, 3)
                    break
    if after.get("quantiles"):
        result["quantiles_s"] = after["quantiles"]  # a summary's own quantiles (not windowed)
    return result


def waits_over(before, after, bound=0.06):
    """(bucket bound, waits above it) over a window: the smallest histogram bucket at or above
    `bound` seconds (a wait capped at 50 ms, with some slack, falls under it); None when the
    metric or such a bucket is absent."""
    if after is None or not after["buckets"]:
        return None
    bounds = sorted(le for le in after["buckets"] if le >= bound and le != float("inf"))
    if not bounds:
        return None
    before = before or {"count": 0.0, "buckets": {}}
    le = bounds[0]
    under = after["buckets"][le] - before["buckets"].get(le, 0.0)
    return le, int((after["count"] - before["count"]) - under)


# PostgreSQL -----------------------------------------------------------------------------

def pg_tool(env, tool, *arguments, check=True, timeout=90):
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(as_user + [os.path.join(env["PG_BINDIR"], tool), *arguments], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=check, timeout=timeout)


def pg_stop(env, which, mode="fast"):
    return pg_tool(env, "pg_ctl", "-D", env[f"{which}_DATA"], "-m", mode, "-w", "-t", "60", "stop")


def pg_start(env, which):
    return pg_tool(env, "pg_ctl", "-D", env[f"{which}_DATA"], "-l", env[f"{which}_LOG"], "-w", "-t", "60", "start")


def pg_promote(env, which):
    return pg_tool(env, "pg_ctl", "-D", env[f"{which}_DATA"], "-w", "-t", "60", "promote")


def psql(env, port, sql, database="postgres"):
    result = pg_tool(env, "psql", "-h", env["SOCKET_DIR"], "-p", str(port), "-U", "postgres", "-d", database,
                     "-At", "-v", "ON_ERROR_STOP=1", "-c", sql, check=False, timeout=30)
    if result.returncode != 0:
        raise RuntimeError(f"psql on port {port} failed: {result.stdout}")
    return result.stdout.strip()


# Figures --------------------------------------------------------------------------------

def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(fraction * (len(ordered) - 1)))))
    return ordered[index]


def latency_ms(seconds):
    """{"n", "p50", "p99", "max"} in milliseconds."""
    if not seconds:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    return {"n": len(seconds), "p50": round(1000 * percentile(seconds, 0.5), 2),
            "p99": round(1000 * percentile(seconds, 0.99), 2), "max": round(1000 * max(seconds), 2)}
