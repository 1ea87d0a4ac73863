"""What the privacy tests share: the protection margin and an HTTP client."""
import http.client
import json
import threading
import time
import urllib.parse

# The protection interval (SUPPRESSION_PROTECTION_PERCENT, SUPPRESSION_PROTECTION_MIN).
MARGIN_REL = 0.10
MARGIN_ABS = 2.0


def margin(v):
    """How far on either side of `v` an attacker's interval must reach."""
    return max(MARGIN_REL * abs(v), MARGIN_ABS)


def in_subtree(parent, node, top):
    """Whether `node` is `top` or lies below it, in a tree given as child -> parent."""
    while node is not None:
        if node == top:
            return True
        node = parent[node]
    return False


class KeepAliveClient:
    """Keep-alive HTTP, one connection per thread, three tries; `send` returns (status, body)."""

    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        self.base = u.path.rstrip("/")
        self.local = threading.local()
        self.lock = threading.Lock()
        self.requests = 0

    def _conn(self):
        c = getattr(self.local, "conn", None)
        if c is None:
            c = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return c

    def send(self, method, path, key=None, body=None, accept="application/json"):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": accept}
        if key:
            headers["Authorization"] = "Bearer " + key
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(3):
            try:
                c = self._conn()
                c.request(method, self.base + path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                with self.lock:
                    self.requests += 1
                if (r.getheader("Connection") or "").lower() == "close":
                    self.close()
                return r.status, raw
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
                time.sleep(0.2)

    @staticmethod
    def parse(raw):
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def close(self):
        c = getattr(self.local, "conn", None)
        if c is not None:
            try:
                c.close()
            except Exception:
                pass
        self.local.conn = None

    def must(self, method, path, key, body=None, ok=(200, 201, 204)):
        st, js = self.call(method, path, key, body)
        if st not in ok:
            raise RuntimeError("%s %s -> %s %s" % (method, path, st, json.dumps(js)[:500]))
        return js
