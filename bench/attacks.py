#!/usr/bin/env python3
"""One client against the server: peak RSS and /healthz latency while each attack runs.

    bench/attacks.sh            (builds the release server, starts its own PostgreSQL)

Attacks, each for a bounded time against 127.0.0.1 only:
  amplification  a partner key posts 100,000 bad rows (the most a submission may hold);
  pipelining     20 connections each pipeline 2,000 GET /openapi.yaml and never read;
  large bodies   4 clients send 32 MiB bodies without a key;
  slow heads     50 connections send one header byte a second for 8 s, then wait.
Meanwhile a probe asks /healthz every 20 ms on a fresh connection. Prints one line per
attack: the server's peak RSS (VmHWM is reset between attacks by a fresh measurement
window: the peak is sampled from VmRSS every 20 ms) and the probe's p50/p99/max.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import threading
import time
import urllib.request


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def request(port, method, path, key=None, body=None, content_type="application/json"):
    headers = {"Content-Type": content_type}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Probe:
    """/healthz every 20 ms, and the server's RSS sampled with it."""

    def __init__(self, port, pid):
        self.port, self.pid = port, pid
        self.latencies, self.peak = [], 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=10) as conn:
                    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    while conn.recv(65536):
                        pass
                self.latencies.append((time.perf_counter() - started) * 1000)
            except OSError:
                self.latencies.append(10_000.0)
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def summary(self):
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (f"peak RSS {self.peak:6.1f} MiB; /healthz p50 {statistics.median(ordered):6.1f} ms, "
                f"p99 {p99:6.1f} ms, max {ordered[-1]:7.1f} ms over {len(ordered)} probes")


def amplification(port, partner_key):
    rows = [{"indicator": "nope", "neighborhood": "nowhere", "period": "2026-01", "value": 1}] * 100_000
    body = json.dumps({"measurements": rows}).encode()
    status, answer = request(port, "POST", "/v1/measurements", partner_key, body)
    return f"{len(body) / 2**20:.1f} MiB of bad rows → {status}, answer {len(answer) / 1024:.0f} KiB"


def pipelining(port, _key):
    one = b"GET /openapi.yaml HTTP/1.1\r\nHost: x\r\n\r\n"
    sockets = []
    for _ in range(20):
        conn = socket.create_connection(("127.0.0.1", port))
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.setblocking(False)
        sockets.append(conn)
    payload = one * 2000
    deadline = time.time() + 8
    sent = [0] * len(sockets)
    while time.time() < deadline:
        for index, conn in enumerate(sockets):
            if sent[index] < len(payload):
                try:
                    sent[index] += conn.send(payload[sent[index]:sent[index] + 65536])
                except BlockingIOError:
                    pass
        time.sleep(0.01)
    for conn in sockets:
        conn.close()
    return f"20 connections × 2,000 pipelined requests, never read ({sum(sent) // len(one):,} requests sent)"


def large_bodies(port, _key):
    results = []

    def one():
        body = b"x" * (32 * 2**20)
        status, _ = request(port, "POST", "/v1/measurements", None, body)
        results.append(status)
    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return f"4 × 32 MiB without a key → {sorted(results)}"


def slow_heads(port, _key):
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
    head = b"GET /healthz HTTP/1.1\r\nX-Slow: "
    for conn in conns:
        conn.send(head[:1])
    for second in range(1, 9):
        for conn in conns:
            try:
                conn.send(head[second:second + 1])
            except OSError:
                pass  # the server already gave up on it
        time.sleep(1)
    time.sleep(4)  # the head deadline (10 s from its first byte) passes
    answered = closed = 0
    for conn in conns:
        conn.settimeout(0.5)
        try:
            data = conn.recv(200)
            answered += data.startswith(b"HTTP/1.1 408")
            closed += data == b"" or data.startswith(b"HTTP/1.1 408")
        except ConnectionResetError:
            closed += 1  # answered and closed while we were still sending: our bytes reset it
        except OSError:
            pass
        conn.close()
    return f"50 connections, one head byte a second for 8 s, then silence: {closed} closed by 12 s ({answered} 408s read)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backbone", required=True)
    args = parser.parse_args()
    env = dict(os.environ, LOG_LEVEL="warning")
    key = subprocess.run([args.backbone, "keys", "create", "--role", "coordinator"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([args.backbone, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if request(port, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        request(port, "POST", "/v1/partners", key, json.dumps({"id": "attacker", "name": "A", "kind": "other"}).encode())
        partner_key = json.loads(request(port, "POST", "/v1/keys", key,
                                         json.dumps({"role": "partner", "partner": "attacker"}).encode())[1])["secret"]
        print(f"idle: RSS {rss_mib(server.pid):.1f} MiB")
        for name, attack in [("amplification", amplification), ("pipelining", pipelining),
                             ("large bodies", large_bodies), ("slow heads", slow_heads)]:
            with Probe(port, server.pid) as probe:
                time.sleep(0.5)
                what = attack(port, partner_key)
                time.sleep(0.5)
            print(f"{name:14} {probe.summary()} — {what}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
