"""Webhooks under the bench's ingest load: a local receiver subscribed to
measurements.submitted while 4 clients post JSON, and the time from each event's
transaction (outbox_events.created_at, its transaction's start) to the first delivery
attempt that reached the receiver (p50/p99), with repeats counted by webhook-id."""
import http.server
import subprocess
import threading
import time


class Receiver:
    """Answers 204 to every POST and records when each webhook-id first arrived and how often."""

    def __init__(self):
        self.first = {}
        self.count = 0
        lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                arrived = time.time()
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with lock:
                    receiver.count += 1
                    receiver.first.setdefault(self.headers.get("webhook-id", ""), arrived)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()


def psql_rows(psql, socket, sql):
    output = subprocess.run([psql, "-h", socket, "-U", "postgres", "-d", "bench", "-At", "-F", " ", "-c", sql],
                            capture_output=True, text=True, check=True).stdout
    return [line.split() for line in output.splitlines() if line.strip()]


def last_event(psql, socket):
    return int(psql_rows(psql, socket, "SELECT coalesce(max(id), 0) FROM outbox_events")[0][0])


def measure(receiver, psql, socket, after_event, percentiles, wait_seconds=60):
    """Waits (up to `wait_seconds`) for every measurements.submitted event after `after_event`
    to arrive, then gives the latencies."""
    created = {int(id): float(at) for id, at in psql_rows(
        psql, socket, f"SELECT id, extract(epoch FROM created_at) FROM outbox_events "
                      f"WHERE id > {after_event} AND type = 'measurements.submitted'")}
    deadline = time.time() + wait_seconds
    while time.time() < deadline and any(f"msg_{id}" not in receiver.first for id in created):
        time.sleep(0.2)
    latencies = [(receiver.first[f"msg_{id}"] - at) * 1000 for id, at in created.items() if f"msg_{id}" in receiver.first]
    p50, p99 = percentiles(latencies) if latencies else (None, None)
    return {"events": len(created), "delivered": len(latencies), "requests": receiver.count,
            "repeats": receiver.count - len(receiver.first),
            "first_attempt_p50_ms": round(p50, 1) if p50 is not None else None,
            "first_attempt_p99_ms": round(p99, 1) if p99 is not None else None}
