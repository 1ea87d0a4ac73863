"""Webhook fault tests (issue 26), run by faults.py against its PostgreSQL: a real receiver
on 127.0.0.1 verifies every delivery with the Standard Webhooks reference library
(`standardwebhooks`, from PyPI; an independent HMAC check when it is missing) and counts
deliveries by `webhook-id`.

1. The receiver is down for a while, then answers 500 at random and sometimes too slowly
   (beyond WEBHOOK_TIMEOUT_SECONDS): every event is delivered once it is back; repeats
   under one id only where an answer came after the timeout.
2. `kill -9` of the server while deliveries are in flight and events are committed but not
   delivered: all delivered after a restart.
3. Two server processes on one database: each event delivered once.
"""
import base64
import collections
import hashlib
import hmac
import http.server
import json
import os
import random
import signal
import socket
import threading
import time

import harness

try:
    from standardwebhooks.webhooks import Webhook
except ImportError:  # the independent implementation below
    Webhook = None

SERVE_ENV = {"WEBHOOK_ALLOW_PRIVATE_NETWORKS": "on", "WEBHOOK_RETRY_SCALE": "0.001", "WEBHOOK_TIMEOUT_SECONDS": "2"}


def verify(secret, body, headers):
    """The payload when the signature verifies, else raises."""
    if Webhook is not None:
        return Webhook(secret).verify(body, headers)
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    if not any(hmac.compare_digest(part[3:], expected) for part in headers["webhook-signature"].split()
               if part.startswith("v1,")):
        raise ValueError("signature does not verify")
    if abs(time.time() - int(headers["webhook-timestamp"])) > 300:
        raise ValueError("timestamp out of tolerance")
    return json.loads(body)


class Receiver:
    """A threaded HTTP receiver: `mode` picks each answer; every request is verified and recorded."""

    def __init__(self, secret=None, port=0):
        self.secret = secret
        self.lock = threading.Lock()
        self.requests = []          # (webhook-id, status answered, verified)
        self.answered_ok = collections.Counter()
        self.slow_answers = 0
        self.mode = lambda: (200, 0)
        self.port = port
        self.server = None
        self.start()

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *arguments):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    verify(receiver.secret, body, headers)
                    verified = True
                except Exception:  # noqa: BLE001 - any failure is a failed verification
                    verified = False
                status, delay = receiver.mode()
                if delay:
                    with receiver.lock:
                        receiver.slow_answers += 1
                    time.sleep(delay)
                with receiver.lock:
                    receiver.requests.append((headers.get("webhook-id"), status, verified))
                    if status == 200:
                        receiver.answered_ok[headers.get("webhook-id")] += 1
                try:
                    self.send_response(status)
                    self.send_header("content-length", "2")
                    self.send_header("connection", "close")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass

        class Server(http.server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hook"

    def delivered(self):
        with self.lock:
            return set(self.answered_ok)

    def wait_for(self, ids, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if ids <= self.delivered():
                return True
            time.sleep(0.2)
        return ids <= self.delivered()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_endpoint(serve, key, url):
    status, _, body = harness.request(serve.port, "POST", "/v1/webhooks", {"url": url, "events": ["*"]}, key)
    if status != 201:
        raise RuntimeError(f"creating the endpoint: {status} {body[:300]}")
    document = json.loads(body)
    return document["id"], document["secret"]


def append_events(cluster, database, count, tag):
    """Events committed as Outbox.append writes them; returns their webhook-ids."""
    rows = cluster.psql(
        "INSERT INTO outbox_events (type, data) SELECT 'period.locked', jsonb_build_object('tag', "
        f"'{tag}', 'n', n) FROM generate_series(1, {count}) n RETURNING id", database)
    return {f"msg_{line}" for line in rows.splitlines() if line.isdigit()}  # not psql's "INSERT 0 n"


STARTED = []  # every serve started here, stopped by run() whatever happens


def new_serve(url, binary):
    serve = harness.Serve(url, executable=binary, extra_env=SERVE_ENV)
    STARTED.append(serve)
    serve.wait_ready()
    return serve


def fresh_database(cluster, name, binary):
    url = cluster.create_database(name)
    harness.run_backbone(["migrate"], url, executable=binary)
    key = harness.run_backbone(["keys", "create", "--role", "coordinator", "--name", name], url, executable=binary)
    return url, key


def receiver_down_flaky_and_slow(cluster, binary, check):
    url, key = fresh_database(cluster, "webhooks_flaky", binary)
    serve = new_serve(url, binary)
    port = free_port()
    receiver = Receiver(port=port)
    endpoint, receiver.secret = create_endpoint(serve, key, receiver.url)
    receiver.stop()  # down
    started = time.time()
    ids = append_events(cluster, "webhooks_flaky", 40, "down")
    for _ in range(5):
        status, _, body = harness.request(serve.port, "POST", f"/v1/webhooks/{endpoint}/ping", None, key)
        check(status == 202, f"ping: {status} {body[:200]}")
        ids.add(json.loads(body)["webhook_id"])
    time.sleep(6)
    rng = random.Random(26)
    receiver.port = port
    receiver.mode = lambda: (500, 0) if rng.random() < 0.3 else ((200, 3) if rng.random() < 0.1 else (200, 0))
    receiver.start()  # back, flaky and sometimes slow
    ids |= append_events(cluster, "webhooks_flaky", 40, "back")
    all_in = receiver.wait_for(ids, 120)
    elapsed = time.time() - started
    repeats = sum(count - 1 for count in receiver.answered_ok.values() if count > 1)
    unverified = [r for r in receiver.requests if not r[2]]
    print(f"webhooks, receiver down 6 s then 30 % 500 and 10 % slow: {len(ids)} events, "
          f"{len(receiver.delivered() & ids)} delivered in {elapsed:.0f} s, {len(receiver.requests)} requests, "
          f"{repeats} repeats by webhook-id ({receiver.slow_answers} answers after the timeout), "
          f"{len(unverified)} unverified", flush=True)
    check(all_in, f"undelivered after the receiver came back: {sorted(ids - receiver.delivered())[:10]}")
    check(not unverified, f"deliveries that do not verify: {unverified[:5]}")
    check(repeats <= receiver.slow_answers, f"{repeats} repeats but only {receiver.slow_answers} late answers")
    check(serve.terminate() == 0, "serve did not exit 0")
    receiver.stop()


def kill_between_commit_and_delivery(cluster, binary, check):
    url, key = fresh_database(cluster, "webhooks_kill", binary)
    serve = new_serve(url, binary)
    receiver = Receiver()
    _, receiver.secret = create_endpoint(serve, key, receiver.url)
    # Until the kill every answer takes a second and is a 500: deliveries are in flight (claimed,
    # their attempt not recorded) when the server dies, and none counts as delivered before it.
    receiver.mode = lambda: (500, 1)
    ids = append_events(cluster, "webhooks_kill", 40, "before")
    deadline = time.time() + 30
    while len(receiver.requests) < 3 and time.time() < deadline:
        time.sleep(0.05)
    serve.process.send_signal(signal.SIGKILL)
    serve.process.wait()
    killed_at = time.time()
    ids |= append_events(cluster, "webhooks_kill", 20, "while-down")  # committed, nobody to deliver them
    receiver.mode = lambda: (200, 0)
    serve = new_serve(url, binary)
    all_in = receiver.wait_for(ids, 90)
    repeats = sum(count - 1 for count in receiver.answered_ok.values() if count > 1)
    # Attempts claimed but never recorded: the ones the kill cut short, sent again after their lease.
    in_flight = int(cluster.psql("SELECT count(*) FROM webhook_deliveries d WHERE d.attempts > "
                                 "(SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id)", "webhooks_kill"))
    print(f"webhooks, kill -9 mid-delivery: {len(ids)} events ({len(ids) - 40} committed while it was down), "
          f"{len(receiver.delivered() & ids)} delivered {time.time() - killed_at:.0f} s after the kill "
          f"(claims in flight wait out their lease), {repeats} repeats by webhook-id; {in_flight} attempts cut short by the kill", flush=True)
    check(in_flight > 0, "no delivery was in flight when the server was killed")
    check(all_in, f"undelivered after kill -9 and restart: {sorted(ids - receiver.delivered())[:10]}")
    check(all(r[2] for r in receiver.requests), "a delivery did not verify")
    check(serve.terminate() == 0, "serve did not exit 0")
    receiver.stop()


def two_servers(cluster, binary, check):
    url, key = fresh_database(cluster, "webhooks_two", binary)
    first, second = new_serve(url, binary), new_serve(url, binary)
    receiver = Receiver()
    _, receiver.secret = create_endpoint(first, key, receiver.url)
    started = time.time()
    ids = append_events(cluster, "webhooks_two", 200, "two")
    all_in = receiver.wait_for(ids, 60)
    time.sleep(1)  # room for a repeat to show
    repeats = sum(count - 1 for count in receiver.answered_ok.values() if count > 1)
    attempts = cluster.psql("SELECT count(*) FROM webhook_attempts", "webhooks_two")
    # From the event's commit (its created_at) to its first attempt, in milliseconds.
    latency = cluster.psql(
        "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)) || ' / ' || "
        "round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)) FROM (SELECT extract(epoch FROM min(a.at) - e.created_at)"
        " * 1000 AS ms FROM outbox_events e JOIN webhook_deliveries d ON d.event_id = e.id JOIN webhook_attempts a "
        "ON a.delivery_id = d.id GROUP BY e.id, e.created_at) t", "webhooks_two")
    print(f"webhooks, two servers on one database: {len(ids)} events delivered in {time.time() - started:.1f} s, "
          f"{len(receiver.requests)} requests, {attempts} attempts recorded, {repeats} repeats; commit to first "
          f"attempt p50 / p99 {latency} ms (200 events committed at once)", flush=True)
    check(all_in, f"undelivered with two servers: {sorted(ids - receiver.delivered())[:10]}")
    check(repeats == 0 and len(receiver.requests) == len(ids), f"{repeats} repeats with two servers")
    check(all(r[2] for r in receiver.requests), "a delivery did not verify")
    time.sleep(2.5)  # the depth gauges are read every 2 s
    delivered, depth = 0, None
    for serve in (first, second):
        status, _, text = harness.request(serve.port, "GET", "/metrics", None, key)
        for line in text.decode().splitlines():
            if line.startswith('backbone_webhook_deliveries_total{outcome="delivered"}'):
                delivered += float(line.split()[-1])
            elif line.startswith("backbone_outbox_depth "):
                depth = float(line.split()[-1])
    print(f"webhooks, /metrics of both servers: {delivered:.0f} delivered, outbox depth {depth}", flush=True)
    check(delivered == len(ids), f"/metrics counts {delivered} deliveries, not {len(ids)}")
    check(depth == 0, f"/metrics shows an outbox depth of {depth} once everything is delivered")
    check(first.terminate() == 0 and second.terminate() == 0, "a serve did not exit 0")
    receiver.stop()


def run(cluster, binary, check):
    print(f"webhooks: verifying with {'standardwebhooks' if Webhook else 'an independent HMAC check'}", flush=True)
    try:
        receiver_down_flaky_and_slow(cluster, binary, check)
        kill_between_commit_and_delivery(cluster, binary, check)
        two_servers(cluster, binary, check)
    finally:
        for serve in STARTED:
            if serve.process.poll() is None:
                serve.terminate(10)
