#!/usr/bin/env python3
"""Backbone privacy auditor: an attacker that tries to read partners' numbers off the
shared reports, and fails the run when it can.

    python3 Tests/privacy/audit.py --url http://127.0.0.1:PORT --coordinator-key KEY \
        --seeds 1,2,3 [--verbose]

For each seed (random.Random(seed)) it builds, through the HTTP API with the coordinator
key, a random deployment with ids prefixed ``s<seed>-<run>-`` (so seeds and repeated runs
share one database): an agenda, a count/sum/month indicator with one dimension and one
without, a city -> districts -> leaves tree with populations, 5-8 partners and measurements
over 3-4 months of 2025 (mostly at leaves, some for a whole district or the city, small
and large values, cells with one or two partners, cells dominated by one partner).
It issues a viewer key and partner keys for one or two partners and, as each of them,
collects the aggregates those keys can read: indicator reports over combinations of
``by`` x ``level`` x ``within`` x period selections (single months, quarters, the year,
contiguous ``from``/``to`` ranges, ``period_type``), the scorecard and the equity view.

The attacker model is deliberately strong: it knows the structure (which partner reported
which finest cell: partner x neighborhood x month x dimension values), and treats every
published number as a linear fact about the unknowns x[j] (one per measurement):
``value`` (sum of the cell's x), ``mean`` x measurements, ``per_1000`` x population/1000,
``progress`` (baseline + progress x (target - baseline)), ``change`` (value minus the
previous period's), the equity ``gap`` (target - value) and ``rank`` order, the scorecard's
value / previous value / trend / progress, and ``min``/``max`` as bounds on every x of the
cell (pinning it when the cell has one measurement; ``median`` pins one or two).
Which measurements a report cell covers follows the README: a neighborhood row at
``level`` L covers the measurements reported at that node or below it (a measurement
reported above L keeps its own row, possibly marked ``reported_above``); with no level a
row covers only that exact code; ``within`` restricts to a subtree; the total covers all
selected measurements. Every fact is first checked against the true data the auditor
posted; a fact that does not hold under the model is dropped and counted as
"unmodelled" (shown with --verbose), so a different but legitimate server behaviour
cannot produce false leaks. (Both the current semantics and the old one, where a
``level`` dropped measurements reported above it, are tried per request.)
Known unknowns: x >= 0, x <= the indicator's declared max; a partner attacker knows its
own x exactly and also reads the viewer's (public) reports.

Targets, bounded with scipy.optimize.linprog (HiGHS) minimising and maximising each one:
  * viewer: every withheld (suppressed) report cell's true value (sum of its x);
  * partner: every peer's individual x, in every cell, withheld or not.

PROTECTION INTERVAL. A true value v with attacker interval [lo, hi] is protected when
    hi >= v + m(v)  (or hi >= the declared max of the target)   and
    lo <= max(0, v - m(v)),           where m(v) = max(0.10 * |v|, 2).
Anything else is a leak, reported with the requests that produce it (the binding
constraints of the LP).

Fixed cases (a small deployment ``fx-<run>-``): partner pd alone in leaf n3 in 2025-05
with 7 (withheld); (a) level=1 district north 130 minus n1 60 and n2 63; (b) within=north
total 130 minus the same; (c) by=period within=n3 total 26 minus 2025-06 n3 19. Each is
replayed literally and by the LP.

Output per run: aggregates collected, equations, withheld values and peer values checked,
the narrowest protection interval, the leaks. Final line ``privacy: N passed, M failed``
(seeds and fixed checks); exit status 1 on any failure.
"""
import argparse
import copy
import http.client
import itertools
import json
import os
import random
import sys
import time
import urllib.parse

import numpy as np

try:
    from scipy.optimize import linprog
    from scipy.linalg import null_space
except ImportError:  # pragma: no cover
    sys.exit("audit.py needs scipy: python3 -m pip install -q scipy")

MARGIN_REL = 0.10
MARGIN_ABS = 2.0


def margin(v):
    return max(MARGIN_REL * abs(v), MARGIN_ABS)


def protected(v, lo, hi, natural_hi=None):
    m = margin(v)
    hi_ok = hi >= v + m - 1e-6 or (natural_hi is not None and hi >= natural_hi - 1e-6)
    lo_ok = lo <= max(0.0, v - m) + 1e-6
    return hi_ok and lo_ok


# ----------------------------------------------------------------------------- periods

def month_key(m):
    y, mm = m.split("-")
    return int(y) * 12 + int(mm) - 1


def month_str(k):
    return "%04d-%02d" % (k // 12, k % 12 + 1)


def quarter_of(m):
    k = month_key(m)
    return "%04d-Q%d" % (k // 12, (k % 12) // 3 + 1)


def period_months(p):
    """The months (as keys) a period string covers, or None when not understood."""
    p = str(p)
    try:
        if len(p) == 4 and p.isdigit():
            y = int(p)
            return set(range(y * 12, y * 12 + 12))
        if "-Q" in p:
            y, q = p.split("-Q")
            s = int(y) * 12 + (int(q) - 1) * 3
            return {s, s + 1, s + 2}
        if len(p) == 7 and p[4] == "-":
            return {month_key(p)}
    except ValueError:
        return None
    return None


def period_of(mk, ptype):
    m = month_str(mk)
    if ptype == "quarter":
        return quarter_of(m)
    if ptype == "year":
        return m[:4]
    return m


def prev_period(p):
    p = str(p)
    if len(p) == 4:
        return str(int(p) - 1)
    if "-Q" in p:
        y, q = p.split("-Q")
        y, q = int(y), int(q)
        return "%d-Q%d" % ((y - 1, 4) if q == 1 else (y, q - 1))
    return month_str(month_key(p) - 1)


def decimals_tol(x):
    """Half a unit of the last printed decimal of a published float (rounding slack)."""
    if isinstance(x, int):
        return 0.0
    r = repr(float(x))
    if "e" in r or "E" in r:
        return 1e-9 * max(1.0, abs(x))
    d = len(r.split(".")[1]) if "." in r else 0
    if d >= 10:
        return 1e-9 * max(1.0, abs(x))
    return 0.5 * 10 ** (-d) + 1e-12


def is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


# ----------------------------------------------------------------------------- HTTP

class Api:
    def __init__(self, url, deadline):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port or 80
        self.base = u.path.rstrip("/")
        self.conn = None
        self.requests = 0
        self.deadline = deadline

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        return self.conn

    def call(self, method, path, key, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": "Bearer " + key, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(3):
            try:
                c = self._conn()
                c.request(method, self.base + path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                self.requests += 1
                if (r.getheader("Connection") or "").lower() == "close":
                    self.close()
                try:
                    js = json.loads(raw) if raw else None
                except ValueError:
                    js = None
                return r.status, js
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
        self.conn = None

    def must(self, method, path, key, body=None, ok=(200, 201)):
        st, js = self.call(method, path, key, body)
        if st not in ok:
            raise RuntimeError("%s %s -> %s %s" % (method, path, st, json.dumps(js)[:500]))
        return js


# ----------------------------------------------------------------------------- deployment

class Meas:
    __slots__ = ("idx", "partner", "node", "month", "dims", "value")

    def __init__(self, idx, partner, node, month, dims, value):
        self.idx, self.partner, self.node = idx, partner, node
        self.month, self.dims, self.value = month, dims, value


class Indicator:
    def __init__(self, code, dims, vmax, baseline, target):
        self.code, self.dims, self.vmax = code, dims, vmax      # dims: {name: [values]}
        self.baseline, self.target = baseline, target           # numbers or None
        self.meas = []

    def truth(self):
        return np.array([m.value for m in self.meas], dtype=float)


class Deployment:
    def __init__(self, prefix):
        self.prefix = prefix
        self.agenda = prefix + "ag"
        self.parent, self.depth, self.pop = {}, {}, {}
        self.partners = []
        self.indicators = []
        self.months = []

    def add_node(self, code, parent, pop):
        self.parent[code] = parent
        self.depth[code] = 0 if parent is None else self.depth[parent] + 1
        self.pop[code] = pop

    def ancestor(self, node, level):
        while self.depth[node] > level:
            node = self.parent[node]
        return node

    def in_subtree(self, node, top):
        while node is not None:
            if node == top:
                return True
            node = self.parent[node]
        return False

    def create(self, api, key):
        api.must("POST", "/v1/agendas", key, {"id": self.agenda, "name": "Audit " + self.agenda,
                                              "starts_on": "2024-01-01"})
        for ind in self.indicators:
            body = {"code": ind.code, "agenda": self.agenda, "name": "Audit " + ind.code,
                    "value_type": "count", "aggregation": "sum", "period_type": "month",
                    "direction": "increase", "unit": "people"}
            if ind.dims:
                body["dimensions"] = [{"name": k, "values": v} for k, v in ind.dims.items()]
            if ind.vmax is not None:
                body["min"], body["max"] = 0, ind.vmax
            if ind.baseline is not None:
                body["baseline"] = {"period": "2024-12", "value": ind.baseline}
            if ind.target is not None:
                body["target"] = {"period": "2026-12", "value": ind.target}
            api.must("POST", "/v1/indicators", key, body)
        for code in sorted(self.parent, key=lambda c: self.depth[c]):
            body = {"code": code, "name": code, "population": self.pop[code]}
            if self.parent[code]:
                body["parent"] = self.parent[code]
            api.must("POST", "/v1/neighborhoods", key, body)
        for p in self.partners:
            api.must("POST", "/v1/partners", key, {"id": p, "name": p, "kind": "nonprofit",
                                                    "level": "collaborating"})
        for ind in self.indicators:
            rows = []
            for m in ind.meas:
                r = {"partner": m.partner, "indicator": ind.code, "neighborhood": m.node,
                     "period": month_str(m.month), "value": m.value}
                if ind.dims:
                    r["dimensions"] = dict(m.dims)
                rows.append(r)
            for i in range(0, len(rows), 500):
                js = api.must("POST", "/v1/measurements", key, {"measurements": rows[i:i + 500]})
                if js and js.get("rejected"):
                    raise RuntimeError("measurements rejected: %s" % js.get("errors"))


def random_deployment(seed, run):
    rng = random.Random(seed)
    d = Deployment("s%d-%s-" % (seed, run))
    P = d.prefix
    city = P + "city"
    d.add_node(city, None, rng.randint(150, 400) * 1000)
    leaves, districts = [], []
    for i in range(rng.randint(2, 3)):
        dist = "%sd%d" % (P, i)
        d.add_node(dist, city, rng.randint(40, 120) * 1000)
        districts.append(dist)
        for j in range(rng.randint(2, 3)):
            leaf = "%sd%d-n%d" % (P, i, j)
            d.add_node(leaf, dist, rng.randint(5, 40) * 1000)
            leaves.append(leaf)
    d.partners = ["%sp%d" % (P, i) for i in range(rng.randint(5, 8))]
    start = rng.randint(month_key("2025-01"), month_key("2025-08"))
    d.months = list(range(start, start + rng.randint(3, 4)))
    dims = {"age_group": ["16-24", "25-44", "45-plus"][:rng.randint(2, 3)]}
    ind_dim = Indicator(P + "enrolled", dims, 100, 300, 900)
    ind_plain = Indicator(P + "sessions", {}, None, None, 400)
    d.indicators = [ind_dim, ind_plain]
    # who serves where
    serves = {}
    for k, p in enumerate(d.partners):
        r = rng.random()
        if k == 0:
            nodes = [city]                                  # serves the whole city
        elif k == 1:
            nodes = [rng.choice(districts)]                 # serves a whole district
        elif r < 0.2:
            nodes = rng.sample(leaves, 1)
        else:
            nodes = rng.sample(leaves, min(len(leaves), rng.randint(2, 5)))
        if rng.random() < 0.2:
            nodes.append(rng.choice(districts))
        serves[p] = sorted(set(nodes))
    dominant = set(rng.sample(d.partners, 2))

    def draw(p):
        r = rng.random()
        if p in dominant and r < 0.5:
            return rng.randint(60, 100)
        if r < 0.15:
            return rng.randint(0, 2)
        if r < 0.25:
            return rng.randint(60, 100)
        return rng.randint(3, 40)

    for ind in d.indicators:
        combos = [dict(zip(ind.dims, vals)) for vals in itertools.product(*ind.dims.values())] or [{}]
        for p in d.partners:
            for node in serves[p]:
                for mk in d.months:
                    if rng.random() < 0.2:
                        continue
                    for dv in combos:
                        if ind.dims and rng.random() < 0.3:
                            continue
                        ind.meas.append(Meas(len(ind.meas), p, node, mk, dv, draw(p)))
    attackers = rng.sample(d.partners[1:], rng.randint(1, 2))
    return d, attackers


def fixed_deployment(run):
    d = Deployment("fx-%s-" % run)
    P = d.prefix
    d.add_node(P + "city", None, 100000)
    d.add_node(P + "north", P + "city", 40000)
    d.add_node(P + "south", P + "city", 60000)
    for n in ("n1", "n2", "n3"):
        d.add_node(P + n, P + "north", 12000)
    for n in ("s1", "s2"):
        d.add_node(P + n, P + "south", 30000)
    d.partners = [P + x for x in ("pa", "pb", "pc", "pd", "pe", "pf")]
    d.months = [month_key("2025-05"), month_key("2025-06")]
    ind = Indicator(P + "visits", {}, None, None, None)
    d.indicators = [ind]
    pa, pb, pc, pd, pe, pf = d.partners
    may, jun = d.months
    data = [
        (pa, "n1", may, 20), (pb, "n1", may, 20), (pc, "n1", may, 20),
        (pa, "n2", may, 21), (pb, "n2", may, 21), (pc, "n2", may, 21),
        (pd, "n3", may, 7),
        (pe, "s1", may, 9),
        (pa, "s2", may, 30), (pb, "s2", may, 25), (pf, "s2", may, 28),
        (pa, "n1", jun, 22), (pb, "n1", jun, 18), (pc, "n1", jun, 25),
        (pa, "n2", jun, 20), (pb, "n2", jun, 24), (pc, "n2", jun, 19),
        (pd, "n3", jun, 5), (pe, "n3", jun, 7), (pa, "n3", jun, 7),
        (pa, "s1", jun, 11), (pe, "s1", jun, 12), (pf, "s1", jun, 10),
        (pa, "s2", jun, 30), (pb, "s2", jun, 26), (pf, "s2", jun, 27),
    ]
    for p, n, mk, v in data:
        ind.meas.append(Meas(len(ind.meas), p, P + n, mk, {}, v))
    return d


# ----------------------------------------------------------------------------- queries

def report_queries(d, ind, rng, budget):
    """Indicator report query strings, most telling first, then a seeded sample."""
    by_opts = ["", "neighborhood", "period", "neighborhood,period", "partner"]
    for name in ind.dims:
        by_opts += ["dimension:" + name, "neighborhood,dimension:" + name,
                    "period,dimension:" + name]
    levels = [None, 0, 1, 2]
    nodes = sorted(d.parent, key=lambda c: (d.depth[c], c))
    withins = [None] + nodes
    months = [month_str(m) for m in d.months]
    quarters = sorted({quarter_of(m) for m in months})
    basic = [{}] + [{"period": m} for m in months] + [{"period": q} for q in quarters]
    ranges = [{"from": months[i], "to": months[j]}
              for i in range(len(months)) for j in range(i + 1, len(months))]
    extra = ranges + [{"period": months[0][:4]}, {"period_type": "quarter"}, {"period_type": "year"}]

    def q(by, level, within, per):
        p = {}
        if by:
            p["by"] = by
        if level is not None:
            p["level"] = level
        if within:
            p["within"] = within
        p.update(per)
        return urllib.parse.urlencode(p)

    first, seen = [], set()

    def add(lst, s):
        if s not in seen:
            seen.add(s)
            lst.append(s)

    for by in by_opts:
        for level in levels:
            for per in basic:
                add(first, q(by, level, None, per))
    for w in nodes:
        for by in ("", "period", "neighborhood"):
            for per in [{}] + [{"period": m} for m in months]:
                add(first, q(by, None, w, per))
    rest = []
    for by in by_opts:
        for level in levels:
            for w in withins:
                for per in basic + extra:
                    add(rest, q(by, level, w, per))
    rng.shuffle(rest)
    allq = first + rest
    return allq if budget is None else allq[:budget]


# ----------------------------------------------------------------------------- facts

class Facts:
    """Linear facts lo <= sum(coef[j] * x[j]) <= hi about one indicator's unknowns."""

    def __init__(self, ind):
        self.ind = ind
        self.truth = ind.truth()
        self.rows = {}          # key -> [lo, hi, sources]
        self.published = 0      # facts seen (before dedup)
        self.unmodelled = []    # (source, reason)
        self.withheld = {}      # coverage tuple -> (true value, source)

    def add(self, coef, lo, hi, src):
        coef = {j: c for j, c in coef.items() if c != 0}
        if not coef:
            return
        self.published += 1
        t = sum(c * self.truth[j] for j, c in coef.items())
        slack = 1e-6 * max(1.0, abs(t))
        if t < lo - slack or t > hi + slack:
            self.unmodelled.append((src, "true %g not in [%g, %g]" % (t, lo, hi)))
            return
        key = tuple(sorted(coef.items()))
        cur = self.rows.get(key)
        if cur is None:
            self.rows[key] = [lo, hi, [src], [src]]    # bounds, and who set each of them
        else:
            if lo > cur[0]:
                cur[0] = lo
                cur[2].insert(0, src)
                del cur[2][3:]
            if hi < cur[1]:
                cur[1] = hi
                cur[3].insert(0, src)
                del cur[3][3:]

    def sum_eq(self, cov, v, tol, src):
        self.add({j: 1.0 for j in cov}, v - tol, v + tol, src)

    def cell(self, cov, row, src, pops=(), ctx=None):
        """Facts from one published report cell covering measurement indices cov."""
        cov = sorted(cov)
        if not cov:
            return
        ind = self.ind
        tv = float(sum(self.truth[j] for j in cov))
        val = row.get("value")
        suppressed = row.get("suppressed") is True or val is None
        if suppressed:
            reason = row.get("suppression_reason")
            self.withheld.setdefault(tuple(cov), (tv, src + (" [%s]" % reason if reason else "")))
        if is_num(val):
            self.sum_eq(cov, float(val), decimals_tol(val), src + " value=%s" % val)
        n = len(cov)
        mean = row.get("mean")
        if is_num(mean):
            self.sum_eq(cov, mean * n, decimals_tol(mean) * n + 1e-9 * n * abs(mean),
                        src + " mean=%s" % mean)
        p1k = row.get("per_1000")
        if is_num(p1k):
            tol = decimals_tol(p1k)
            ok = False
            for pop in pops:
                if pop and abs(tv * 1000.0 / pop - p1k) <= tol + 1e-9:
                    self.sum_eq(cov, p1k * pop / 1000.0, tol * pop / 1000.0, src + " per_1000=%s" % p1k)
                    ok = True
                    break
            if not ok:
                self.unmodelled.append((src + " per_1000=%s" % p1k, "no population fits"))
        prog = row.get("progress")
        base = row.get("baseline") if is_num(row.get("baseline")) else ind.baseline
        targ = row.get("target") if is_num(row.get("target")) else ind.target
        if is_num(prog) and base is not None and targ is not None and targ != base:
            span = targ - base
            self.sum_eq(cov, base + prog * span, decimals_tol(prog) * abs(span),
                        src + " progress=%s" % prog)
        gap = row.get("gap")
        if is_num(gap) and targ is not None:
            for cand in (targ - gap, targ + gap, gap):
                if abs(cand - tv) <= decimals_tol(gap) + 1e-9:
                    self.sum_eq(cov, cand, decimals_tol(gap), src + " gap=%s" % gap)
                    break
            else:
                self.unmodelled.append((src + " gap=%s" % gap, "no gap formula fits"))
        mn, mx, med = row.get("min"), row.get("max"), row.get("median")
        for j in cov:
            if is_num(mn):
                self.add({j: 1.0}, mn - decimals_tol(mn), np.inf, src + " min=%s" % mn)
            if is_num(mx):
                self.add({j: 1.0}, -np.inf, mx + decimals_tol(mx), src + " max=%s" % mx)
        if n == 1:
            for name, x in (("min", mn), ("max", mx), ("median", med)):
                if is_num(x):
                    self.sum_eq(cov, float(x), decimals_tol(x), src + " %s=%s" % (name, x))
        if n == 2:
            if is_num(med):
                self.sum_eq(cov, 2.0 * med, 2 * decimals_tol(med), src + " median=%s" % med)
            if is_num(mn) and is_num(mx):
                self.sum_eq(cov, float(mn + mx), decimals_tol(mn) + decimals_tol(mx),
                            src + " min+max=%s+%s" % (mn, mx))
        if n == 3 and is_num(mn) and is_num(mx) and is_num(med):
            self.sum_eq(cov, float(mn + med + mx), decimals_tol(mn) + decimals_tol(mx) + decimals_tol(med),
                        src + " min+median+max=%s+%s+%s" % (mn, med, mx))
        ch = row.get("change")
        if is_num(ch) and ctx is not None:
            cands = ctx.get("prev", [])
            for name, pcov in cands:
                if pcov is None:
                    continue
                pv = sum(self.truth[j] for j in pcov)
                if abs(tv - pv - ch) <= decimals_tol(ch) + 1e-9:
                    coef = {j: 1.0 for j in cov}
                    for j in pcov:
                        coef[j] = coef.get(j, 0.0) - 1.0
                    self.add(coef, ch - decimals_tol(ch), ch + decimals_tol(ch),
                             src + " change=%s (vs %s)" % (ch, name))
                    break
            else:
                self.unmodelled.append((src + " change=%s" % ch, "no previous cell fits"))


# ----------------------------------------------------------------------------- coverage

class Request:
    def __init__(self, params):
        self.params = params
        self.by = [b for b in params.get("by", "").split(",") if b]
        self.level = int(params["level"]) if "level" in params else None
        self.within = params.get("within")
        self.ptype = params.get("period_type", "month")
        sel = None
        if "period" in params:
            sel = period_months(params["period"])
        elif "from" in params or "to" in params:
            lo = min(period_months(params["from"])) if "from" in params else -10 ** 9
            hi = max(period_months(params["to"])) if "to" in params else 10 ** 9
            sel = (lo, hi)
        self.sel = sel

    def month_ok(self, mk):
        if self.sel is None:
            return True
        if isinstance(self.sel, tuple):
            return self.sel[0] <= mk <= self.sel[1]
        return mk in self.sel


def selected(d, req, m, variant, ignore_months=False):
    if not ignore_months and not req.month_ok(m.month):
        return False
    if req.within and not d.in_subtree(m.node, req.within):
        return False
    if variant == "old" and req.level is not None and d.depth[m.node] < req.level:
        return False
    return True


def row_key_of(d, req, m, by=None):
    key = []
    for g in (by if by is not None else req.by):
        if g == "neighborhood":
            if req.level is None or d.depth[m.node] < req.level:
                key.append(m.node)          # exact code, or reported above the level
            else:
                key.append(d.ancestor(m.node, req.level))
        elif g == "period":
            key.append(period_of(m.month, req.ptype))
        elif g == "partner":
            key.append(m.partner)
        elif g.startswith("dimension:"):
            key.append(m.dims.get(g[len("dimension:"):]))
        else:
            key.append(None)
    return tuple(key)


def published_key(req, row):
    key = []
    for g in req.by:
        if g == "neighborhood":
            key.append(row.get("neighborhood"))
        elif g == "period":
            key.append(str(row.get("period")) if row.get("period") is not None else None)
        elif g == "partner":
            key.append(row.get("partner"))
        elif g.startswith("dimension:"):
            name = g[len("dimension:"):]
            v = row.get(g)
            if v is None and isinstance(row.get("dimensions"), dict):
                v = row["dimensions"].get(name)
            key.append(v)
        else:
            key.append(None)
    return tuple(key)


def group(d, ind, req, variant, ignore_months=False):
    groups = {}
    for m in ind.meas:
        if selected(d, req, m, variant, ignore_months):
            groups.setdefault(row_key_of(d, req, m), []).append(m.idx)
    return groups


def cell_consistent(ind, cov, row):
    """How well a modelled coverage matches what the row publishes (-1 = contradiction)."""
    score = 0
    if is_num(row.get("measurements")):
        if row["measurements"] != len(cov):
            return -1
        score += 1
    if is_num(row.get("partners")):
        if row["partners"] != len({ind.meas[j].partner for j in cov}):
            return -1
        score += 1
    if is_num(row.get("value")):
        if abs(row["value"] - sum(ind.meas[j].value for j in cov)) > 1e-6:
            return -1
        score += 1
    return score


def model_report(d, ind, req, js):
    """Map a report's rows and total onto coverages. Returns (cells, mismatches, variant)
    where cells is a list of (label, coverage, row, extra)."""
    best = None
    for variant in ("new", "old"):
        groups = group(d, ind, req, variant)
        cells, bad, score = [], [], 0
        for i, row in enumerate(js.get("rows") or []):
            if not isinstance(row, dict):
                continue
            pk = published_key(req, row)
            cov = groups.get(pk)
            if cov is None:
                bad.append(("row %s" % (pk,), "no such cell in the model"))
                continue
            s = cell_consistent(ind, cov, row)
            if s < 0:
                bad.append(("row %s" % (pk,), "counts/value differ from the model"))
                continue
            score += s
            cells.append(("row %s" % ",".join(str(k) for k in pk), cov, row, pk))
        tot = js.get("total")
        if isinstance(tot, dict):
            cov = [m.idx for m in ind.meas if selected(d, req, m, variant)]
            s = cell_consistent(ind, cov, tot) if cov else 0
            if s < 0:
                bad.append(("total", "counts/value differ from the model"))
            elif cov:
                score += s
                cells.append(("total", cov, tot, None))
        cand = (-len(bad), score, variant == "new", cells, bad, variant, groups)
        if best is None or cand[:3] > best[:3]:
            best = cand
    return best[3], best[4], best[5], best[6]


# ----------------------------------------------------------------------------- collection

class Collection:
    def __init__(self):
        self.responses = []     # (label, kind, params, json)
        self.rejected = 0
        self.rejected_codes = {}
        self.requests = 0
        self.truncated = False


def collect(api, key, d, queries_by_ind, equity_periods):
    col = Collection()
    for ind, queries in queries_by_ind:
        for qs in queries:
            if time.time() > api.deadline:
                col.truncated = True
                break
            path = "/v1/reports/indicators/%s?%s" % (ind.code, qs)
            st, js = api.call("GET", path, key)
            col.requests += 1
            if st >= 400 or not isinstance(js, dict):
                col.rejected += 1
                col.rejected_codes[st] = col.rejected_codes.get(st, 0) + 1
                continue
            col.responses.append((path, "report", (ind, dict(urllib.parse.parse_qsl(qs))), js))
    path = "/v1/reports/scorecard?agenda=" + d.agenda
    st, js = api.call("GET", path, key)
    col.requests += 1
    if st < 400 and isinstance(js, dict):
        col.responses.append((path, "scorecard", None, js))
    else:
        col.rejected += 1
        col.rejected_codes[st] = col.rejected_codes.get(st, 0) + 1
    for ind in d.indicators:
        for per in equity_periods:
            for level in (None, 0, 1, 2):
                p = {"indicator": ind.code, "period": per}
                if level is not None:
                    p["level"] = level
                path = "/v1/reports/equity?" + urllib.parse.urlencode(p)
                st, js = api.call("GET", path, key)
                col.requests += 1
                if st < 400 and isinstance(js, dict):
                    col.responses.append((path, "equity", (ind, p), js))
                else:
                    col.rejected += 1
                    col.rejected_codes[st] = col.rejected_codes.get(st, 0) + 1
    return col


def build_facts(d, collections, facts=None):
    if facts is None:
        facts = {ind.code: Facts(ind) for ind in d.indicators}
    aggregates = 0
    for col in collections:
        for path, kind, info, js in col.responses:
            if kind == "report":
                ind, params = info
                F = facts[ind.code]
                req = Request(params)
                cells, bad, variant, groups = model_report(d, ind, req, js)
                for label, why in bad:
                    F.unmodelled.append(("GET %s %s" % (path, label), why))
                aggregates += len(cells)
                # previous-period coverages for `change`
                all_groups = None
                for label, cov, row, pk in cells:
                    src = "GET %s %s" % (path, label)
                    pops = []
                    ctx = None
                    if pk is not None and "neighborhood" in req.by:
                        pops.append(d.pop.get(pk[req.by.index("neighborhood")]))
                    if pk is None:
                        pops += [d.pop.get(req.within)] if req.within else []
                        pops.append(d.pop[[c for c in d.parent if d.parent[c] is None][0]])
                    if is_num(row.get("change")):
                        ctx = {"prev": []}
                        if pk is not None and "period" in req.by:
                            i = req.by.index("period")
                            pp = list(pk)
                            pp[i] = prev_period(pk[i])
                            ctx["prev"].append(("previous period in range", groups.get(tuple(pp), [])))
                            if all_groups is None:
                                all_groups = group(d, ind, req, variant, ignore_months=True)
                            ctx["prev"].append(("previous period", all_groups.get(tuple(pp), [])))
                            earlier = sorted((k for k in groups
                                              if k[:i] + k[i + 1:] == pk[:i] + pk[i + 1:]
                                              and period_months(k[i]) and period_months(pk[i])
                                              and max(period_months(k[i])) < min(period_months(pk[i]))),
                                             key=lambda k: min(period_months(k[i])))
                            if earlier:
                                ctx["prev"].append(("previous row", groups[earlier[-1]]))
                    F.cell(cov, row, src, pops, ctx)
            elif kind == "equity":
                ind, p = info
                F = facts[ind.code]
                params = {"by": "neighborhood", "period": p["period"]}
                if "level" in p:
                    params["level"] = p["level"]
                req = Request(params)
                rows = js.get("neighborhoods") or js.get("rows") or []
                cells, bad, variant, groups = model_report(d, ind, req, {"rows": rows})
                for label, why in bad:
                    F.unmodelled.append(("GET %s %s" % (path, label), why))
                aggregates += len(cells)
                for label, cov, row, pk in cells:
                    F.cell(cov, row, "GET %s %s" % (path, label), [d.pop.get(pk[0]), row.get("population")])
                # rank order: consecutive ranks, validated against the truth as a block. The
                # server places withheld rows after the visible ones in code order, whatever
                # their values, so only ranks among visible rows say anything about values.
                ranked = sorted(((row.get("rank"), cov, label) for label, cov, row, pk in cells
                                 if is_num(row.get("rank")) and not row.get("suppressed")), key=lambda t: t[0])
                if len(ranked) >= 2:
                    tv = [sum(F.truth[j] for j in cov) for _, cov, _ in ranked]
                    for sign in (1.0, -1.0):    # values ascending (largest gap first) or descending
                        if all(sign * (tv[i + 1] - tv[i]) >= -1e-9 for i in range(len(tv) - 1)):
                            for i in range(len(ranked) - 1):
                                coef = {}
                                for j in ranked[i + 1][1]:
                                    coef[j] = coef.get(j, 0.0) + sign
                                for j in ranked[i][1]:
                                    coef[j] = coef.get(j, 0.0) - sign
                                F.add(coef, 0.0, np.inf, "GET %s rank %s<=%s" % (
                                    path, ranked[i][2], ranked[i + 1][2]))
                            break
            elif kind == "scorecard":
                for line in js.get("indicators") or []:
                    F = facts.get(line.get("indicator"))
                    if F is None:
                        continue
                    ind = F.ind
                    src = "GET %s %s" % (path, ind.code)

                    def cov_of(per):
                        pm = period_months(per) if per else None
                        if not pm:
                            return None
                        return [m.idx for m in ind.meas if m.month in pm]
                    cur = cov_of(line.get("period"))
                    prev = cov_of(line.get("previous_period"))
                    if cur:
                        aggregates += 1
                        row = {"value": line.get("value"), "suppressed": line.get("suppressed")}
                        if is_num(line.get("progress")):
                            row["progress"] = line["progress"]
                        if is_num(line.get("value")) and abs(line["value"] - sum(F.truth[j] for j in cur)) > 1e-6:
                            F.unmodelled.append((src, "value differs from the model"))
                        else:
                            F.cell(cur, row, src + " period=%s" % line.get("period"))
                    if prev:
                        aggregates += 1
                        pv = line.get("previous_value")
                        if is_num(pv) and abs(pv - sum(F.truth[j] for j in prev)) > 1e-6:
                            F.unmodelled.append((src, "previous_value differs from the model"))
                        else:
                            F.cell(prev, {"value": pv, "suppressed": pv is None},
                                   src + " previous=%s" % line.get("previous_period"))
                    tr = line.get("trend")
                    if cur and prev and tr in ("up", "down", "flat"):
                        coef = {j: 1.0 for j in cur}
                        for j in prev:
                            coef[j] = coef.get(j, 0.0) - 1.0
                        lo, hi = {"up": (0.0, np.inf), "down": (-np.inf, 0.0), "flat": (0.0, 0.0)}[tr]
                        F.add(coef, lo, hi, src + " trend=" + tr)
    return facts, aggregates


# ----------------------------------------------------------------------------- LP

class Attack:
    """Bounds of linear targets given the facts, x >= 0, x <= max, known x."""

    def __init__(self, F, known=()):
        self.F = F
        n = len(F.truth)
        self.n = n
        self.xt = F.truth
        vmax = F.ind.vmax
        lb = np.zeros(n)
        ub = np.full(n, np.inf if vmax is None else float(vmax))
        eq_rows, self.eq_src = [], []
        iq_rows, iq_lo, iq_hi, self.iq_src = [], [], [], []
        self.lo_src, self.hi_src = {}, {}
        for key, (lo, hi, los, his) in F.rows.items():
            srcs = los[:1] + [x for x in his[:1] if x not in los[:1]]
            if len(key) == 1 and key[0][1] == 1.0:
                j = key[0][0]
                if lo > lb[j]:
                    lb[j] = lo
                    self.lo_src[j] = los[0]
                if hi < ub[j]:
                    ub[j] = hi
                    self.hi_src[j] = his[0]
                continue
            v = np.zeros(n)
            for j, c in key:
                v[j] = c
            if hi - lo <= 1e-9:
                eq_rows.append(v)
                self.eq_src.append(srcs)
            else:
                iq_rows.append(v)
                iq_lo.append(lo)
                iq_hi.append(hi)
                self.iq_src.append(srcs)
        for j in known:
            lb[j] = ub[j] = self.xt[j]
            self.lo_src[j] = self.hi_src[j] = "the attacker's own value"
        fixed = [j for j in range(n) if ub[j] - lb[j] <= 1e-9]
        self.lb, self.ub = lb, ub
        self.E = np.array(eq_rows) if eq_rows else np.zeros((0, n))
        self.R = np.array(iq_rows) if iq_rows else np.zeros((0, n))
        self.rlo, self.rhi = np.array(iq_lo), np.array(iq_hi)
        M = [self.E] + ([np.eye(n)[fixed]] if fixed else [])
        M = np.vstack(M) if n else np.zeros((0, 0))
        self.N = null_space(M) if M.shape[0] else np.eye(n)
        k = self.N.shape[1]
        self.k = k
        # inequalities in z-space: G z <= h
        G, h = [], []
        free = [j for j in range(n) if j not in set(fixed)]
        if k:
            Nf = self.N[free]
            for row, j in zip(Nf, free):
                if np.isfinite(ub[j]):
                    G.append(row)
                    h.append(ub[j] - self.xt[j])
                G.append(-row)
                h.append(self.xt[j] - lb[j])
            if len(self.R):
                RN = self.R @ self.N
                base = self.R @ self.xt
                for i in range(len(RN)):
                    if np.isfinite(self.rhi[i]):
                        G.append(RN[i])
                        h.append(self.rhi[i] - base[i])
                    if np.isfinite(self.rlo[i]):
                        G.append(-RN[i])
                        h.append(base[i] - self.rlo[i])
        G = np.array(G) if G else np.zeros((0, k))
        h = np.maximum(np.array(h), 0.0) if h else np.zeros(0)
        if len(G):
            keep = np.max(np.abs(G), axis=1) > 1e-10      # rows constant on the feasible set
            G, h = G[keep], h[keep]
            if len(G):
                G, idx = np.unique(np.round(G, 12), axis=0, return_inverse=True)
                hh = np.full(len(G), np.inf)
                np.minimum.at(hh, idx.ravel(), h)
                h = hh
        self.G, self.h = G, h
        self.lps = 0
        self.pool = np.zeros((k, 0))    # feasible points (z) met so far: witnesses

    def bounds(self, c, need_lo=None, need_hi=None):
        """[lo, hi] of c.x over the feasible set (exact when c is determined). With
        need_lo/need_hi, a side that feasible points already seen reach is not solved:
        the result is then (a lower bound of the width, exact=False)."""
        v = float(c @ self.xt)
        if self.k == 0:
            return v, v, True
        cz = c @ self.N
        if np.max(np.abs(cz)) < 1e-9:
            return v, v, True
        out = []
        exact = True
        seen = cz @ self.pool if self.pool.shape[1] else np.zeros(1)
        for sign in (-1.0, 1.0):            # lower side, then upper side
            if sign < 0 and need_lo is not None and v + seen.min() <= need_lo:
                out.append(v + seen.min()); exact = False; continue
            if sign > 0 and need_hi is not None and v + seen.max() >= need_hi:
                out.append(v + seen.max()); exact = False; continue
            self.lps += 1
            r = linprog(-sign * cz, A_ub=self.G if len(self.G) else None,
                        b_ub=self.h if len(self.h) else None,
                        bounds=[(None, None)] * self.k, method="highs")
            if r.status == 3:
                out.append(np.inf if sign > 0 else -np.inf)
            elif r.status == 0:
                out.append(v - sign * r.fun)
                if self.pool.shape[1] < 400:
                    self.pool = np.hstack([self.pool, r.x.reshape(-1, 1)])
            else:
                out.append(v + 1e9 if sign > 0 else v - 1e9)   # unknown: treat as unbounded
        return out[0], out[1], exact

    def explain(self, c, side):
        """The published facts that bind c.x at its max (side=+1) or min (side=-1)."""
        n = self.n
        A_ub, b_ub, src_ub = [], [], []
        for i in range(len(self.R)):
            if np.isfinite(self.rhi[i]):
                A_ub.append(self.R[i]); b_ub.append(self.rhi[i]); src_ub.append(self.iq_src[i][-1])
            if np.isfinite(self.rlo[i]):
                A_ub.append(-self.R[i]); b_ub.append(-self.rlo[i]); src_ub.append(self.iq_src[i][0])
        be = (self.E @ self.xt) if len(self.E) else None
        try:
            r = linprog(-side * c, A_ub=np.array(A_ub) if A_ub else None, b_ub=np.array(b_ub) if b_ub else None,
                        A_eq=self.E if len(self.E) else None, b_eq=be,
                        bounds=list(zip(self.lb, [None if not np.isfinite(u) else u for u in self.ub])),
                        method="highs")
        except ValueError:
            return []
        if r.status != 0:
            return []
        used = []
        if len(self.E) and r.eqlin is not None:
            for i in np.argsort(-np.abs(r.eqlin.marginals)):
                if abs(r.eqlin.marginals[i]) > 1e-7:
                    used.append((abs(r.eqlin.marginals[i]), self.eq_src[i][0]))
        if A_ub and r.ineqlin is not None:
            for i in np.argsort(-np.abs(r.ineqlin.marginals)):
                if abs(r.ineqlin.marginals[i]) > 1e-7:
                    used.append((abs(r.ineqlin.marginals[i]), src_ub[i]))
        for bound, srcmap in ((r.lower, self.lo_src), (r.upper, self.hi_src)):
            if bound is None:
                continue
            for j in np.nonzero(np.abs(bound.marginals) > 1e-7)[0]:
                if j in srcmap:
                    used.append((abs(bound.marginals[j]), srcmap[j]))
        used.sort(key=lambda t: -t[0])
        out, seen = [], set()
        for _, s in used:
            if s not in seen:
                seen.add(s)
                out.append(s)
        return out[:8]


# ----------------------------------------------------------------------------- audit

class Result:
    def __init__(self, name):
        self.name = name
        self.leaks = []
        self.lines = []


def describe_meas(d, m):
    dims = ",".join("%s=%s" % kv for kv in sorted(m.dims.items()))
    return "x[%s @ %s %s%s]" % (m.partner, m.node, month_str(m.month), (" " + dims) if dims else "")


def run_attacker(d, F, label, known, targets, deadline, verbose, explain_limit=4):
    """targets: list of (description, coverage indices, natural max). Returns stats, leaks."""
    att = Attack(F, known)
    narrow = None
    leaks = []
    cands = []
    checked = 0
    unchecked = 0
    natural = {}
    for desc, cov, nat in targets:
        natural[desc] = nat
        if time.time() > deadline:
            unchecked += 1
            continue
        c = np.zeros(att.n)
        c[list(cov)] = 1.0
        v = float(c @ att.xt)
        need_hi = v + margin(v) if nat is None else min(v + margin(v), nat)
        lo, hi, exact = att.bounds(c, max(0.0, v - margin(v)), need_hi)
        checked += 1
        if not protected(v, lo, hi, nat):
            leaks.append([desc, v, lo, hi, c])
            continue
        cands.append((hi - lo, exact, c, v, lo, hi, desc))
    # the narrowest protection interval, solved exactly for the few narrowest candidates
    cands.sort(key=lambda t: t[0] / max(abs(t[3]), 1.0))
    for width, exact, c, v, lo, hi, desc in cands[:5]:
        if not exact and time.time() < deadline:
            lo, hi, exact = att.bounds(c)
        w = hi - lo
        if narrow is None or w / max(abs(v), 1.0) < narrow[1]:
            narrow = (w, w / max(abs(v), 1.0), v, lo, hi, desc, exact)
    leaks.sort(key=lambda lk: ("complementary" in lk[0], len(np.nonzero(lk[4])[0])))
    for i, leak in enumerate(leaks):
        if i < explain_limit or verbose:
            desc, v, lo, hi, c = leak
            nat = natural.get(desc)
            why = []
            if not (hi >= v + margin(v) - 1e-6 or (nat is not None and hi >= nat - 1e-6)):
                why += att.explain(c, 1)
            if not lo <= max(0.0, v - margin(v)) + 1e-6:
                why += [w for w in att.explain(c, -1) if w not in why]
            leak.append(why[:10])
        else:
            leak.append(None)
    return {"equations": len(F.rows), "published": F.published, "checked": checked,
            "unchecked": unchecked, "narrow": narrow, "lps": att.lps, "free": att.k}, leaks


def fmt_interval(lo, hi):
    f = lambda x: ("%g" % round(x, 3)) if np.isfinite(x) and abs(x) < 1e8 else ("inf" if x > 0 else "-inf")
    return "[%s, %s]" % (f(lo), f(hi))


def audit_deployment(api, ckey, d, attackers, args, name, budget, deadline):
    """Creates the deployment, collects as each key, attacks. Returns (Result, stats lines)."""
    res = Result(name)
    d.create(api, ckey)
    vkey = api.must("POST", "/v1/keys", ckey, {"role": "viewer", "name": name + " viewer"})["secret"]
    pkeys = {p: api.must("POST", "/v1/keys", ckey, {"role": "partner", "partner": p,
                                                      "name": name + " " + p})["secret"]
             for p in attackers}
    rng = random.Random(args.seed_for_queries.get(name, 0))
    qb = []
    for ind in d.indicators:
        b = None if budget is None else (budget if ind.dims else budget // 3)
        qb.append((ind, report_queries(d, ind, rng, b)))
    months = [month_str(m) for m in d.months]
    eq_periods = months + sorted({quarter_of(m) for m in months})
    n_meas = sum(len(i.meas) for i in d.indicators)
    res.lines.append("%s: %d partners, %d neighborhoods, %d months, %d measurements (%s)" % (
        name, len(d.partners), len(d.parent), len(d.months), n_meas,
        ", ".join("%s: %d" % (i.code, len(i.meas)) for i in d.indicators)))
    t0 = time.time()
    vcol = collect(api, vkey, d, qb, eq_periods)
    pcols = {}
    for p, k in pkeys.items():
        # a partner key first re-reads a sample; the full set only when it sees otherwise
        sample = [(ind, qs[:max(50, len(qs) // 5)]) for ind, qs in qb]
        pc = collect(api, k, d, sample, eq_periods)
        vmap = {path: js for path, _, _, js in vcol.responses}
        differs = any(vmap.get(path) != js for path, _, _, js in pc.responses)
        if differs:
            pc = collect(api, k, d, qb, eq_periods)
        pc.differs = differs
        pcols[p] = pc
    t_collect = time.time() - t0

    # viewer
    vfacts, vaggs = build_facts(d, [vcol])
    viewer_stats = []
    for ind in d.indicators:
        F = vfacts[ind.code]
        # The protected values are the withheld cells of single periods (the server's
        # protection grid: tree node x dimension values x native period). A cell over
        # several periods is withheld because one of its periods is; what it hides is that
        # period's cell, checked on its own, so it is bounded here only for information.
        targets = []
        for cov, (tv, src) in sorted(F.withheld.items(), key=lambda t: t[1][1]):
            if len({ind.meas[j].month for j in cov}) != 1:
                continue
            nat = None if ind.vmax is None else ind.vmax * len(cov)
            targets.append(("withheld %s (%d measurements)" % (src, len(cov)), cov, nat))
        st, leaks = run_attacker(d, F, "viewer", (), targets, deadline, args.verbose)
        viewer_stats.append((ind, F, st))
        for lk in leaks:
            res.leaks.append(("viewer", ind.code) + tuple(lk))
    # partners
    partner_stats = []
    for p, pc in pcols.items():
        vmap = {path: js for path, _, _, js in vcol.responses}
        own = Collection()
        own.responses = [r for r in pc.responses if vmap.get(r[0]) != r[3]]
        pfacts, paggs = build_facts(d, [own], copy.deepcopy(vfacts))
        paggs += vaggs
        for ind in d.indicators:
            F = pfacts[ind.code]
            known = [m.idx for m in ind.meas if m.partner == p]
            targets = [("peer %s" % describe_meas(d, m), [m.idx], ind.vmax)
                       for m in ind.meas if m.partner != p]
            st, leaks = run_attacker(d, F, p, known, targets, deadline, args.verbose)
            partner_stats.append((p, pc, paggs, ind, F, st))
            for lk in leaks:
                res.leaks.append(("partner " + p, ind.code) + tuple(lk))

    # print stats
    def narrow_str(st):
        nw = st["narrow"]
        if nw is None:
            return "none"
        w, rel, v, lo, hi, desc, exact = nw
        return "%s around true %g (width %s%g = %.0f%% of the value) for %s" % (
            fmt_interval(lo, hi), v, "" if exact else ">=", round(w, 3), 100 * rel, desc)
    res.lines.append("  viewer: %d requests (%d rejected %s), %d aggregates collected, collect %.1fs" % (
        vcol.requests, vcol.rejected, dict(sorted(vcol.rejected_codes.items())), vaggs, t_collect))
    for ind, F, st in viewer_stats:
        res.lines.append("    %s: %d facts -> %d distinct equations (%d free dims), %d unmodelled; "
                         "%d withheld values checked%s; narrowest: %s" % (
                             ind.code, st["published"], st["equations"], st["free"], len(F.unmodelled),
                             st["checked"], (" (%d NOT checked: time)" % st["unchecked"]) if st["unchecked"] else "",
                             narrow_str(st)))
    for p, pc, paggs, ind, F, st in partner_stats:
        res.lines.append("  partner %s: %d requests (%d rejected, %s viewer's), %d aggregates with the viewer's; "
                         "%s: %d distinct equations, %d peer values checked%s; narrowest: %s" % (
                             p, pc.requests, pc.rejected, "differs from" if pc.differs else "same as",
                             paggs, ind.code, st["equations"], st["checked"],
                             (" (%d NOT checked: time)" % st["unchecked"]) if st["unchecked"] else "",
                             narrow_str(st)))
    unmod = []
    for ind, F, st in viewer_stats:
        unmod += F.unmodelled
    if unmod:
        res.lines.append("  %d published facts did not fit the model and were ignored%s" % (
            len(unmod), "" if args.verbose else " (--verbose lists them)"))
        if args.verbose:
            for s, why in unmod[:200]:
                res.lines.append("    unmodelled: %s: %s" % (s, why))
    res.truncated = vcol.truncated or any(pc.truncated for pc in pcols.values())
    res.unchecked = sum(st["unchecked"] for _, _, st in viewer_stats) + \
        sum(st["unchecked"] for *_, st in partner_stats)
    return res


def print_leaks(res, verbose, per_group=4):
    groups = {}
    for lk in res.leaks:
        groups.setdefault((lk[0], lk[1]), []).append(lk)
    for (who, code), leaks in groups.items():
        comp = sum(1 for lk in leaks if "complementary" in lk[2])
        print("  %d leaks for the %s attacker on %s%s:" % (
            len(leaks), who, code, (" (%d of them cells withheld only as complements)" % comp) if comp else ""))
        for i, (who, code, desc, v, lo, hi, c, why) in enumerate(leaks):
            if i >= per_group and not verbose:
                print("    ... and %d more (--verbose lists all)" % (len(leaks) - i))
                break
            print("    LEAK %s: true %g, attacker interval %s (protection needs <= %g and >= %g)" % (
                desc, v, fmt_interval(lo, hi), max(0, v - margin(v)), v + margin(v)))
            for s in why or []:
                print("        from: %s" % s)


# ----------------------------------------------------------------------------- fixed cases

def fixed_cases(api, ckey, run, args, deadline):
    """The three known subtraction attacks. Returns list of (name, ok, message)."""
    d = fixed_deployment(run)
    P = d.prefix
    ind = d.indicators[0]
    out = []
    res = audit_deployment(api, ckey, d, [], args, "fixed", None, deadline)
    vkey = api.must("POST", "/v1/keys", ckey, {"role": "viewer", "name": "fixed literal"})["secret"]

    def get(qs):
        st, js = api.call("GET", "/v1/reports/indicators/%s?%s" % (ind.code, qs), vkey)
        return qs, (js if st < 400 and isinstance(js, dict) else None)

    def cell(resp, nb=None, per=None):
        qs, js = resp
        if js is None:
            return None
        if nb is None and per is None:
            v = (js.get("total") or {}).get("value")
        else:
            v = None
            for r in js.get("rows") or []:
                if (nb is None or r.get("neighborhood") == nb) and (per is None or str(r.get("period")) == per):
                    v = r.get("value")
                    break
        return v if is_num(v) and not (js.get("suppressed") is True) else None

    lvl1 = get("by=neighborhood&level=1&period=2025-05")
    flat = get("by=neighborhood&period=2025-05")
    within = get("by=neighborhood&within=%snorth&period=2025-05" % P)
    n3per = get("by=period&within=%sn3" % P)
    jun = get("by=neighborhood&period=2025-06")
    north = cell(lvl1, P + "north")
    n1, n2 = cell(flat, P + "n1"), cell(flat, P + "n2")
    wtot = cell(within)
    w_n1, w_n2 = cell(within, P + "n1"), cell(within, P + "n2")
    n3tot, n3jun = cell(n3per), cell(jun, P + "n3")
    n3may_direct = cell(flat, P + "n3")

    def case(name, terms):
        if any(t[1] is None for t in terms):
            shown = ", ".join("%s=%s" % (t[0], "withheld" if t[1] is None else t[1]) for t in terms)
            return name, True, "not reproducible: %s" % shown
        v = terms[0][1] - sum(t[1] for t in terms[1:])
        expr = "%s - %s = %g" % (terms[0][1], " - ".join(str(t[1]) for t in terms[1:]), v)
        src = "; ".join("%s from ?%s" % (t[0], t[2]) for t in terms)
        if abs(v - 7) < 1e-9:
            return name, False, "LEAK %s (pd's withheld n3 2025-05 value): %s" % (expr, src)
        return name, True, "subtraction gives %s, not 7" % expr

    n1src = n1 if n1 is not None else w_n1
    n2src = n2 if n2 is not None else w_n2
    out.append(case("fixed-a level=1 district minus leaves",
                    [("north", north, lvl1[0]), ("n1", n1src, flat[0]), ("n2", n2src, flat[0])]))
    out.append(case("fixed-b within=north total minus leaves",
                    [("total", wtot, within[0]), ("n1", n1src, flat[0] if n1 is not None else within[0]),
                     ("n2", n2src, flat[0] if n2 is not None else within[0])]))
    out.append(case("fixed-c across periods",
                    [("n3 total", n3tot, n3per[0]), ("n3 2025-06", n3jun, jun[0])]))
    if n3may_direct is not None:
        out.append(("fixed-0 n3 2025-05 shown directly", False,
                    "LEAK n3 2025-05 = %s is shown to a viewer" % n3may_direct))
    # the LP over every collected aggregate, for pd's value in particular
    pd_idx = [m.idx for m in ind.meas if m.partner == P + "pd" and month_str(m.month) == "2025-05"]
    pd_leaks = [lk for lk in res.leaks if lk[2].startswith("withheld") and set(np.nonzero(lk[6])[0]) == set(pd_idx)]
    msg = "%d leaks over all collected aggregates" % len(res.leaks)
    if pd_leaks:
        msg += "; pd's 7 recovered: interval %s" % fmt_interval(pd_leaks[0][4], pd_leaks[0][5])
    out.append(("fixed-lp every combination", not res.leaks, msg))
    return out, res


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--coordinator-key", required=True)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--budget", type=int, default=1200,
                    help="report requests per key for the dimensioned indicator (a third for the other)")
    ap.add_argument("--time-limit", type=float, default=55.0, help="seconds for the whole run")
    ap.add_argument("--run-id", default=None, help="id fragment that keeps repeated runs apart")
    ap.add_argument("--no-fixed", action="store_true", help="skip the fixed subtraction cases")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    run = args.run_id or os.urandom(2).hex()
    started = time.time()
    end = started + args.time_limit
    api = Api(args.url, end)
    args.seed_for_queries = {"s%d" % s: s for s in seeds}
    passed = failed = 0
    st, js = api.call("GET", "/v1/agendas?limit=1", args.coordinator_key)
    if st != 200:
        print("coordinator key refused (%s): %s" % (st, js))
        print("privacy: 0 passed, 1 failed")
        return 1
    checks = []
    slots = len(seeds) + (0 if args.no_fixed else 1)
    for i, s in enumerate(seeds):
        t = time.time()
        share = (end - t) / max(1, slots - i)
        deadline = min(end, t + share)
        api.deadline = t + 0.7 * share          # collection stops here; the LPs get the rest
        d, attackers = random_deployment(s, run)
        try:
            res = audit_deployment(api, args.coordinator_key, d, attackers, args, "s%d" % s, args.budget, deadline)
        except Exception as e:   # an API failure is a failed check, with the reason
            print("seed %d: ERROR %s" % (s, e))
            failed += 1
            continue
        for line in res.lines:
            print(line)
        print_leaks(res, args.verbose)
        ok = not res.leaks
        msg = "ok" if ok else "%d leaks" % len(res.leaks)
        if res.unchecked or res.truncated:
            msg += " (INCOMPLETE: %s%d targets not checked in time; raise --time-limit)" % (
                "collection cut short, " if res.truncated else "", res.unchecked)
        print("seed %d: %s (%.1fs)" % (s, "PASS " + msg if ok else "FAIL " + msg, time.time() - t))
        passed += ok
        failed += not ok
    if not args.no_fixed:
        t = time.time()
        api.deadline = end
        try:
            cases, res = fixed_cases(api, args.coordinator_key, run, args, end)
            for line in res.lines:
                print(line)
            print_leaks(res, args.verbose, per_group=3)
            for name, ok, msg in cases:
                print("%s: %s %s" % (name, "PASS" if ok else "FAIL", msg))
                passed += ok
                failed += not ok
        except Exception as e:
            print("fixed cases: ERROR %s" % e)
            failed += 1
        print("fixed cases: %.1fs" % (time.time() - t))
    print("%d requests in %.1fs" % (api.requests, time.time() - started))
    print("privacy: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
