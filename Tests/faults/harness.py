"""Helpers for the fault and memory scripts: a throwaway PostgreSQL cluster, a live
`backbone serve`, an HTTP client, and process figures read from /proc.

Standard library only. As root, PostgreSQL runs as the `postgres` user (it refuses root).
"""
import glob
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pg_bindir():
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]), reverse=True):
        if os.access(os.path.join(folder, "initdb"), os.X_OK):
            return folder
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(os.path.realpath(initdb))
    raise SystemExit("initdb not found: install postgresql")


class Cluster:
    """A private PostgreSQL in a temporary folder, on a unix socket only."""

    def __init__(self, name="faults"):
        self.bindir = pg_bindir()
        self.folder = tempfile.mkdtemp(prefix=f"backbone-{name}.")
        os.chmod(self.folder, 0o755)
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = os.path.join(self.folder, "data")
        self._tool("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
        self.start()

    def _tool(self, name, *arguments, check=True):
        return subprocess.run(self.as_user + [os.path.join(self.bindir, name), *arguments],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=check, text=True)

    def start(self):
        options = f"-c listen_addresses='' -k {self.folder} -c max_connections=100 -c fsync=off"
        self._tool("pg_ctl", "-D", self.data, "-l", os.path.join(self.folder, "server.log"), "-w", "-t", "60",
                   "-o", options, "start")

    def stop(self, mode="fast"):
        self._tool("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def restart(self, mode="fast"):
        options = f"-c listen_addresses='' -k {self.folder} -c max_connections=100 -c fsync=off"
        self._tool("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "-o", options,
                   "-l", os.path.join(self.folder, "server.log"), "restart")

    def conninfo(self, database):
        return f"host={self.folder} dbname={database} user=postgres"

    def psql(self, sql, database="postgres"):
        result = subprocess.run(self.as_user + [os.path.join(self.bindir, "psql"), "-h", self.folder, "-U", "postgres",
                                                "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout.strip()

    def create_database(self, name):
        self.psql(f"CREATE DATABASE {name}")
        return self.conninfo(name)

    def remove(self):
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def binary():
    """The debug `backbone` (BACKBONE_BIN overrides it)."""
    return os.environ.get("BACKBONE_BIN") or os.path.join(ROOT, ".build", "debug", "backbone")


def run_backbone(arguments, database_url, home=ROOT, executable=None):
    environment = dict(os.environ, DATABASE_URL=database_url)
    result = subprocess.run([executable or binary(), *arguments], env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, check=True)
    return result.stdout.strip()


class Serve:
    """`backbone serve --port 0` against a database; its log goes to a file."""

    def __init__(self, database_url, home=ROOT, executable=None, extra_env=None):
        self.log_path = tempfile.mktemp(prefix="backbone-serve.", suffix=".log")
        self.log = open(self.log_path, "w")
        environment = dict(os.environ, DATABASE_URL=database_url, LOG_LEVEL="info")
        environment.update(extra_env or {})
        self.process = subprocess.Popen([executable or binary(), "serve", "--port", "0"], env=environment,
                                        stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pid = self.process.pid
        self.port = self._wait_for_port()

    def _wait_for_port(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited early: {self.output()}")
            # The "listening" line names the address before or after its message, by LOG_FORMAT.
            match = re.search(r"address=\S*:(\d+)\b.*listening|listening.*address=\S*:(\d+)\b", self.output())
            if match:
                return int(match.group(1) or match.group(2))
            time.sleep(0.05)
        raise RuntimeError("serve did not start listening")

    def output(self):
        with open(self.log_path) as log:
            return log.read()

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if request(self.port, "GET", "/readyz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("serve did not become ready: " + self.output()[-2000:])

    def terminate(self, timeout=60):
        """SIGTERM, then the exit status (None if it did not exit in time)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return None


def request(port, method, path, body=None, key=None, content_type="application/json", timeout=30, headers=None):
    """One request on its own connection: (status, headers dict, body bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        sent = dict(headers or {})
        if key:
            sent["Authorization"] = f"Bearer {key}"
        if body is not None:
            if not isinstance(body, (bytes, bytearray)):
                body = json.dumps(body).encode()
            sent["Content-Type"] = content_type
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def seed_registry(port, key, neighborhoods=20):
    """One agenda, a weekly count with a dimension, a ratio, neighborhoods, two partners."""
    bodies = [
        ("/v1/agendas", {"id": "literacy", "name": "Every adult reads", "starts_on": "2000-01-01"}),
        ("/v1/indicators", {"code": "learners", "agenda": "literacy", "name": "Learners", "value_type": "count",
                            "aggregation": "sum", "period_type": "week",
                            "dimensions": [{"name": "age_group", "values": ["16-24", "25-44", "45+"]}]}),
        ("/v1/indicators", {"code": "pass_rate", "agenda": "literacy", "name": "Pass rate", "value_type": "percent",
                            "aggregation": "ratio", "period_type": "quarter"}),
        ("/v1/neighborhoods", {"code": "city", "name": "City", "population": 500000}),
        ("/v1/partners", {"id": "library", "name": "Library", "kind": "library"}),
        ("/v1/partners", {"id": "school", "name": "School", "kind": "school"}),
    ]
    bodies += [("/v1/neighborhoods", {"code": f"n{i}", "name": f"Neighborhood {i}", "parent": "city", "population": 1000 + i})
               for i in range(neighborhoods)]
    for path, body in bodies:
        status, _, text = request(port, "POST", path, body, key)
        if status not in (201, 409):
            raise RuntimeError(f"seeding {path}: {status} {text[:300]}")


def weeks(first_year=2000, last_year=2024):
    for year in range(first_year, last_year + 1):
        for week in range(1, 53):
            yield f"{year}-W{week:02d}"
