#!/usr/bin/env python3
"""Issue 22's seven attacks, replayed against a live Backbone server.

    python3 Tests/privacy/attacks.py --url http://127.0.0.1:PORT --coordinator-key KEY [--verbose]

With the coordinator key it builds, through the API, a realistic deployment whose ids start
with a per-run random fragment (``x<hex>-``, so repeated runs share one database): a city,
3 districts, 9 neighborhoods (3 per district, with populations); 9 partners (one reporting
for the whole city, one for a whole district, seven at neighborhoods, one of them a school
with ~1,000 pupils beside programs of ~3); the indicators

  * ``enrolled``  monthly count, ``sum``, dimension ``age_group`` (3 values);
  * ``pass_rate`` ``ratio`` (numerator / denominator), value type percent;
  * ``volunteers`` a stock (``last``);
  * ``score``     a ``mean`` score;
  * ``wait_max``  a ``max`` (longest wait, days);

12 months of 2025 (plus a little of 2026-01, never released), partner keys for every partner
and a viewer key. When ``POST /v1/releases`` exists (is not a 404) the coordinator releases
every month of 2025 before anyone reads (the release model of issue 22).

Then the attacks, each one check that FAILS (prints LEAK with the recovered figure and the
true one) when it recovers a partner's figure or a withheld value exactly or within its
margin max(10 %, 2), and PASSES otherwise:

  1. max/min: the value of a ``max`` cell is one partner's figure; a partner in a 3-partner
     cell solves both peers from value (max) and mean x measurements.
  2. dominated ratio: a visible rate within the margin of the dominant school's own rate.
  3. the district-wide partner's linear system (LP over its district's published cells,
     its own values fixed) narrows a withheld neighborhood x age_group cell.
  4. insert, read, delete: a partner posts Z into a withheld cell of two other partners
     (found through ``by=partner``, else known from outside), reads the cell, subtracts Z,
     retracts its row (``DELETE /v1/measurements/{id}``). Under releases it tries a released
     month (its write must be refused) and the unreleased 2026-01 (it must see nothing).
  5. a watcher (viewer) diffing moments: a named partner's late row, then a correction (under
     releases the partner's write is refused and the coordinator enters it and releases a
     revision); any visible difference equal to the figure or the change, or an LP over
     every moment's reads that narrows them or a cell withheld throughout, is a leak; so is
     ``/metrics`` readable without a key (or with a viewer's) and its ingest counter ticking.
     Under releases it also writes into 2026-01 and re-releases an unchanged month.
  6. ``by=partner``: other partners' rows (withheld or not) listed to a viewer or partner.
  7. ``suppression_reason`` shown to a viewer, and used as LP bounds.

The enrolled data are drawn from ``--seed`` (default 22), so a run is reproducible: against the
server before issue 22 (no releases) all seven attacks fail, attack 3 in three months of the
default seed (other seeds: about two runs in three).

One line per attack ``attack-N NAME: PASS|FAIL detail`` (with ``LEAK`` lines naming the
requests and the recovered and true numbers), then ``attacks: N passed, M failed``; exit
status 1 when any failed, 2 when the deployment could not be built. Contract surprises seen
on the way (numbers in withheld cells, min/max/median shown, a report without ``releases``
under the release model, release summaries that do not add up) and server errors (5xx) are
listed before the last line; they do not fail the run.
"""
import argparse
import json
import os
import random
import sys
import time
import urllib.parse

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shared import KeepAliveClient, in_subtree, margin  # noqa: E402

try:
    from scipy.optimize import linprog
except ImportError:  # pragma: no cover
    sys.exit("attacks.py needs scipy: python3 -m pip install -q scipy")

MONTHS = ["2025-%02d" % m for m in range(1, 13)]
LATE = "2026-01"            # a month that is never released
AGES = ["16-24", "25-44", "45-plus"]



def within_margin(got, true):
    return got is not None and abs(got - true) <= margin(true) + 1e-9


def protected(v, lo, hi, natural_hi=None):
    """audit.py's protection interval: [lo, hi] must reach v - m(v) (or 0) and v + m(v)
    (or the natural maximum)."""
    m = margin(v)
    hi_ok = hi >= v + m - 1e-6 or (natural_hi is not None and hi >= natural_hi - 1e-6)
    lo_ok = lo <= max(0.0, v - m) + 1e-6
    return hi_ok and lo_ok


def is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def fmt(x):
    if x is None:
        return "null"
    if isinstance(x, float):
        return ("%.4f" % x).rstrip("0").rstrip(".")
    return str(x)


# ----------------------------------------------------------------------------- HTTP

class Api(KeepAliveClient):
    """Every 5xx is remembered for the final report; every request logged for --verbose."""

    def __init__(self, url):
        super().__init__(url)
        self.server_errors = []     # (method, path, status, body excerpt)
        self.log = []               # every request, for --verbose
        self.coordinator = None
        self.model = "live"

    def raw(self, method, path, key=None, body=None, accept="application/json"):
        st, raw = self.send(method, path, key, body, accept)
        if st >= 500:
            self.server_errors.append((method, path, st, raw[:300].decode("utf-8", "replace")))
        return st, raw

    def call(self, method, path, key=None, body=None):
        st, raw = self.raw(method, path, key, body)
        self.log.append("%s %s -> %s" % (method, path, st))
        return st, self.parse(raw)


CONTRACT = {}      # surprise -> first request that showed it


def surprise(text, where):
    CONTRACT.setdefault(text, where)


def report(api, key, code, **params):
    """A report as `key` sees it; for a non-coordinator key, notes contract surprises."""
    path = "/v1/reports/indicators/%s?%s" % (code, urllib.parse.urlencode(params))
    st, js = api.call("GET", path, key)
    if key != api.coordinator and isinstance(js, dict) and st == 200:
        if api.model == "releases" and not isinstance(js.get("releases"), list):
            surprise("report without a `releases` list for a non-coordinator", "GET " + path)
        for row in (js.get("rows") or []) + [js.get("total") or {}]:
            for f in ("min", "max", "median"):
                if row.get(f) is not None:
                    surprise("`%s` shown to a non-coordinator" % f, "GET " + path)
            if row.get("suppressed") is True:
                for f in ("value", "measurements", "partners", "mean", "per_1000", "progress", "change"):
                    if row.get(f) is not None:
                        surprise("a withheld cell shows `%s`" % f, "GET " + path)
    elif st >= 400 and key != api.coordinator:
        surprise("a report refused with %s" % st, "GET " + path)
    return path, st, js


# ----------------------------------------------------------------------------- deployment

class M:
    """One measurement the deployment posted (its truth)."""
    __slots__ = ("partner", "node", "period", "age", "value", "num", "den")

    def __init__(self, partner, node, period, value=None, age=None, num=None, den=None):
        self.partner, self.node, self.period, self.age = partner, node, period, age
        self.value, self.num, self.den = value, num, den


class World:
    def __init__(self, prefix, seed):
        self.P = P = prefix
        self.rng = random.Random(seed)
        self.seed = seed
        self.agenda = P + "literacy"
        self.city = P + "city"
        self.districts = [P + "d%d" % i for i in (1, 2, 3)]
        self.parent, self.depth, self.pop = {self.city: None}, {self.city: 0}, {self.city: 310000}
        self.leaves = []
        for i, d in enumerate(self.districts):
            self.parent[d], self.depth[d], self.pop[d] = self.city, 1, 100000 + 5000 * i
            for j in (1, 2, 3):
                leaf = "%s-n%d" % (d, j)
                self.parent[leaf], self.depth[leaf] = d, 2
                self.pop[leaf] = 20000 + 5000 * ((i * 3 + j) % 5)
                self.leaves.append(leaf)
        names = ["city-library", "d1-health", "lincoln-high", "esl-now", "grace-church",
                 "northside-assoc", "adult-ed-coop", "youth-reads", "tech-for-all"]
        kinds = ["library", "government", "school", "nonprofit", "faith",
                 "neighborhood_association", "nonprofit", "nonprofit", "business"]
        self.partners = [P + n for n in names]
        self.kind = dict(zip(self.partners, kinds))
        (self.pcity, self.pdist, self.school, self.p4, self.p5, self.p6, self.p7, self.p8,
         self.p9) = self.partners
        L = {leaf[len(P):]: leaf for leaf in self.leaves}
        # who works where (leaf partners)
        self.members = {
            L["d1-n1"]: [self.school, self.p4, self.p5, self.p7],
            L["d1-n2"]: [self.school, self.p6, self.p8, self.p9],
            L["d1-n3"]: [self.p4, self.p5, self.p6, self.p7],
            L["d2-n1"]: [self.p5, self.p7, self.p8],
            L["d2-n2"]: [self.p8, self.p9],
            L["d2-n3"]: [self.p6, self.p7, self.p9],
            L["d3-n1"]: [self.school, self.p8, self.p9],
            L["d3-n2"]: [self.p4, self.p9],
            L["d3-n3"]: [self.p5, self.p6, self.p7, self.p8],
        }
        self.L = L
        self.d1 = self.districts[0]
        code = lambda c: P + c
        self.ind = {
            "enrolled": code("enrolled"), "pass_rate": code("pass_rate"),
            "volunteers": code("volunteers"), "score": code("score"), "wait_max": code("wait_max"),
        }
        self.meas = {k: [] for k in self.ind}
        # attack 5's late row and correction (both in a month read by nothing else)
        self.watch_month = "2025-11"
        self.late = (self.p7, L["d2-n1"], "25-44", 17)          # p7 has not reported d2-n1 in 2025-11
        self.correction = (self.p8, L["d3-n3"], "16-24")        # p8 corrects this row
        self.generate()

    # --- tree
    def in_subtree(self, node, top):
        return in_subtree(self.parent, node, top)

    def generate(self):
        rng = self.rng
        late_p, late_leaf, _, _ = self.late
        cp, cleaf, cage = self.correction
        er = random.Random(self.seed * 7919 + 1)     # enrolled has a stream of its own
        # 5 % gaps, 8 % tiny counts (0-2), 25 % large cohorts (60-120), else 3-40. With the
        # default seed this mix gives the old server's district-partner leak in several months
        # (seed 22: 2025-06, -08, -10); other seeds leak in about 2 runs of 3.
        GAP, SMALL, BIG = 0.05, 0.08, 0.25
        for month in MONTHS:
            for leaf, ps in self.members.items():
                for p in ps:
                    # enrolled: one row per age group, a few gaps
                    for age in AGES:
                        if (p, leaf, month) == (late_p, late_leaf, self.watch_month):
                            continue
                        if (p, leaf, month, age) != (cp, cleaf, self.watch_month, cage) and er.random() < GAP:
                            continue
                        r = er.random()
                        v = er.randint(0, 2) if r < SMALL else er.randint(60, 120) if r < SMALL + BIG else er.randint(3, 40)
                        self.meas["enrolled"].append(M(p, leaf, month, v, age=age))
                    # pass_rate: the school's ~1000 pupils beside programs of 3
                    if p == self.school:
                        den = rng.randint(950, 1050)
                        num = int(round(den * rng.uniform(0.62, 0.82)))
                    elif self.school in ps:
                        den, num = 3, rng.choice([1, 2])
                    else:
                        den = rng.randint(15, 60)
                        num = int(round(den * rng.uniform(0.3, 0.9)))
                    self.meas["pass_rate"].append(M(p, leaf, month, num=num, den=den))
                    if rng.random() < 0.75:
                        self.meas["volunteers"].append(M(p, leaf, month, rng.randint(2, 30)))
                    self.meas["score"].append(M(p, leaf, month, rng.randint(40, 95)))
                    self.meas["wait_max"].append(M(p, leaf, month, rng.randint(5, 90)))
            for age in AGES:
                self.meas["enrolled"].append(M(self.pcity, self.city, month, er.randint(10, 60), age=age))
                self.meas["enrolled"].append(M(self.pdist, self.d1, month, er.randint(5, 50), age=age))
            self.meas["volunteers"].append(M(self.pcity, self.city, month, rng.randint(20, 60)))
            self.meas["score"].append(M(self.pcity, self.city, month, rng.randint(50, 90)))
            self.meas["score"].append(M(self.pdist, self.d1, month, rng.randint(50, 90)))
        # a little of a month that is never released (attacks 4 and 5 under releases)
        for leaf in (self.L["d2-n2"], self.L["d1-n3"]):
            for p in self.members[leaf]:
                for age in AGES:
                    self.meas["enrolled"].append(M(p, leaf, LATE, rng.randint(3, 40), age=age))

    def build(self, api, key):
        P = self.P
        api.must("POST", "/v1/agendas", key, {
            "id": self.agenda, "name": "Every adult reads (%s)" % P.rstrip("-"),
            "vision": "Every adult in the city reads English well enough to get a job.",
            "starts_on": "2024-01-01", "ends_on": "2027-12-31"})
        base = {"agenda": self.agenda, "period_type": "month"}
        bodies = [
            dict(base, code=self.ind["enrolled"], name="Adult learners enrolled", unit="people",
                 definition="Adults enrolled in an ESL or literacy class during the month.",
                 value_type="count", aggregation="sum", direction="increase", min=0, max=500,
                 baseline={"period": "2024-12", "value": 400}, target={"period": "2026-12", "value": 900},
                 dimensions=[{"name": "age_group", "values": AGES}]),
            dict(base, code=self.ind["pass_rate"], name="Learners passing the level test", unit="%",
                 value_type="percent", aggregation="ratio", direction="increase",
                 target={"period": "2026-12", "value": 80}),
            dict(base, code=self.ind["volunteers"], name="Active volunteer tutors", unit="people",
                 value_type="count", aggregation="last", direction="increase", min=0, max=500),
            dict(base, code=self.ind["score"], name="Mean reading score", unit="points",
                 value_type="score", aggregation="mean", direction="increase", min=0, max=100),
            dict(base, code=self.ind["wait_max"], name="Longest wait for a class place", unit="days",
                 value_type="amount", aggregation="max", direction="decrease", min=0, max=365),
        ]
        for b in bodies:
            api.must("POST", "/v1/indicators", key, b)
        for code in sorted(self.parent, key=lambda c: self.depth[c]):
            b = {"code": code, "name": code[len(P):].upper(), "population": self.pop[code]}
            if self.parent[code]:
                b["parent"] = self.parent[code]
            api.must("POST", "/v1/neighborhoods", key, b)
        for p in self.partners:
            api.must("POST", "/v1/partners", key, {
                "id": p, "name": p[len(P):].replace("-", " ").title(), "kind": self.kind[p],
                "level": "collaborating", "contact_email": "data@%s.example.org" % p[len(P):]})
        rows = []
        for k, lst in self.meas.items():
            for m in lst:
                r = {"partner": m.partner, "indicator": self.ind[k], "neighborhood": m.node, "period": m.period}
                if m.num is not None:
                    r["numerator"], r["denominator"] = m.num, m.den
                else:
                    r["value"] = m.value
                if m.age is not None:
                    r["dimensions"] = {"age_group": m.age}
                rows.append(r)
        for i in range(0, len(rows), 1000):
            js = api.must("POST", "/v1/measurements", key, {"measurements": rows[i:i + 1000]})
            if js and js.get("rejected"):
                raise RuntimeError("measurements rejected: %s" % json.dumps(js.get("errors"))[:400])
        self.keys = {}
        for p in self.partners:
            js = api.must("POST", "/v1/keys", key, {"role": "partner", "partner": p, "name": "attacks " + p})
            self.keys[p] = js["secret"]
        self.viewer = api.must("POST", "/v1/keys", key, {"role": "viewer", "name": "attacks viewer " + P})["secret"]
        return len(rows)

    # --- truth helpers
    def cover(self, kind, period, scope, age=None, meas=None):
        """Measurements of indicator `kind` (or of the list `meas`) in `period` under scope
        ('all' | ('sub', code) | ('own', code)), optionally of one age group."""
        out = []
        for m in (self.meas[kind] if meas is None else meas):
            if m.period != period:
                continue
            if age is not None and m.age != age:
                continue
            if scope == "all":
                pass
            elif scope[0] == "sub":
                if not self.in_subtree(m.node, scope[1]):
                    continue
            elif m.node != scope[1]:
                continue
            out.append(m)
        return out


# ----------------------------------------------------------------------------- release model

def release_summaries(items, where, posted=None):
    """Checks release summaries (a POST answer or GET /v1/releases items); with `posted`
    ({id: summary} from the POSTs), also that the listing says what the POST said."""
    for rel in items:
        for item in rel.get("indicators") or []:
            if (item.get("withheld") or 0) > (item.get("cells") or 0):
                surprise("a release summary counts more withheld cells than cells (%s)" % where,
                         "%s %s rev %s: %s withheld %s, cells %s" % (where, rel.get("period"), rel.get("revision"),
                                                                    item.get("indicator"), item.get("withheld"),
                                                                    item.get("cells")))
        if posted is not None and rel.get("id") in posted:
            p = {i.get("indicator"): (i.get("cells"), i.get("withheld")) for i in posted[rel["id"]].get("indicators") or []}
            g = {i.get("indicator"): (i.get("cells"), i.get("withheld")) for i in rel.get("indicators") or []}
            if p != g:
                k = next((k for k in g if p.get(k) != g[k]), None)
                surprise("GET /v1/releases disagrees with the POST's answer about cells/withheld",
                         "release %s (%s rev %s) %s: POST said %s, GET says %s" % (
                             rel["id"], rel.get("period"), rel.get("revision"), k, p.get(k), g.get(k)))


def release_all(api, key, w):
    """Releases every month of 2025 when the server has releases; returns (model, detail)."""
    t0 = time.time()
    st, js = api.call("POST", "/v1/releases", key, {"agenda": w.agenda, "period": MONTHS[0]})
    if st == 404:
        return "live", "no /v1/releases (404): reports are live"
    if st not in (200, 201):
        raise RuntimeError("POST /v1/releases -> %s %s" % (st, json.dumps(js)[:300]))
    withheld = cells = 0
    posted = {}
    for i, month in enumerate(MONTHS):
        if i:
            js = api.must("POST", "/v1/releases", key, {"agenda": w.agenda, "period": month})
        posted[(js or {}).get("id")] = js or {}
        for item in (js or {}).get("indicators") or []:
            cells += item.get("cells") or 0
            withheld += item.get("withheld") or 0
    took = time.time() - t0
    release_summaries(list(posted.values()), "POST /v1/releases")
    st, listing = api.call("GET", "/v1/releases?agenda=" + urllib.parse.quote(w.agenda), w.viewer)
    if st != 200 or not isinstance(listing, dict):
        surprise("GET /v1/releases with a viewer key -> %s" % st, "GET /v1/releases?agenda=" + w.agenda)
    else:
        items = listing.get("items") or []
        if len(items) != len(MONTHS) and listing.get("next_cursor") is None:
            surprise("GET /v1/releases lists %d releases after %d were made" % (len(items), len(MONTHS)),
                     "GET /v1/releases?agenda=" + w.agenda)
        release_summaries(items, "GET /v1/releases", posted)
    return "releases", "12 months released in %.1fs (%d cells, %d withheld)" % (took, cells, withheld)


# ----------------------------------------------------------------------------- LP

class System:
    """Linear facts over one indicator's measurements of one period (unknowns x_j >= 0,
    <= the indicator's max), checked against the truth: a fact that does not hold under
    the coverage model is dropped and counted."""

    def __init__(self, meas, vmax, known=()):
        self.meas = meas
        self.idx = {id(m): j for j, m in enumerate(meas)}
        self.truth = np.array([m.value for m in meas], dtype=float)
        self.vmax = vmax
        self.known = set(self.idx[id(m)] for m in known if id(m) in self.idx)
        self.facts = []         # (coef vector, lo, hi, source)
        self.unmodelled = []

    def add(self, cov, lo, hi, src):
        coef = np.zeros(len(self.meas))
        for m in cov:
            coef[self.idx[id(m)]] = 1.0
        if not coef.any():
            return
        t = float(coef @ self.truth)
        if t < lo - 1e-6 or t > hi + 1e-6:
            self.unmodelled.append("%s: true %g not in [%g, %g]" % (src, t, lo, hi))
            return
        self.facts.append((coef, lo, hi, src))

    def bounds(self, cov, extra=()):
        """[lo, hi] of the sum over the measurements cov, with `extra` facts added."""
        return self.bounds_c(self.coef(cov), extra)

    def bounds_c(self, c, extra=()):
        """[lo, hi] of c . x by linprog (HiGHS); self.binding lists the facts that bind."""
        n = len(self.meas)
        A, b, srcs = [], [], []
        for coef, lo, hi, src in list(self.facts) + list(extra):
            if hi < np.inf:
                A.append(coef)
                b.append(hi)
                srcs.append(src)
            if lo > -np.inf:
                A.append(-coef)
                b.append(-lo)
                srcs.append(src)
        bnds = [(self.truth[j], self.truth[j]) if j in self.known else (0, self.vmax) for j in range(n)]
        out = []
        self.binding = []
        for sign in (1, -1):
            r = linprog(sign * c, A_ub=np.array(A) if A else None, b_ub=np.array(b) if b else None,
                        bounds=bnds, method="highs")
            if r.status != 0:
                out.append(None)
                continue
            out.append(sign * r.fun)
            if A and getattr(r, "ineqlin", None) is not None:
                for k in np.nonzero(np.abs(r.ineqlin.marginals) > 1e-9)[0]:
                    if srcs[k] not in self.binding:
                        self.binding.append(srcs[k])
        return out[0], out[1]

    def coef(self, cov):
        coef = np.zeros(len(self.meas))
        for m in cov:
            coef[self.idx[id(m)]] = 1.0
        return coef


def row_scope(w, row, level, within):
    """The coverage scope of a `by=neighborhood` row (README: with `level`, a row at that
    depth is its subtree, a shallower one keeps its own measurements; without, the code's own)."""
    code = row.get("neighborhood")
    if code is None or code not in w.depth:
        return None
    if level is not None and w.depth[code] == level:
        return ("sub", code)
    if w.depth[code] == 2:          # a leaf: own == subtree
        return ("sub", code)
    return ("own", code)


def row_age(row):
    d = row.get("dimensions")
    if isinstance(d, dict) and "age_group" in d:
        return d["age_group"]
    return row.get("dimension:age_group")


def facts_from(w, sysm, js, params, period, withheld, src_prefix, within=None, meas=None, visible=None):
    """Adds the facts of one `enrolled` report (rows and total) for one period; records the
    withheld cells (coverage, reason, source) into `withheld`."""
    by = [b for b in params.get("by", "").split(",") if b]
    level = params.get("level")
    level = int(level) if level is not None else None
    base_scope = ("sub", within) if within else "all"
    cells = []
    for row in (js.get("rows") or []):
        if "period" in by and str(row.get("period")) != period:
            continue
        if "partner" in by:
            continue
        scope = base_scope
        if "neighborhood" in by:
            scope = row_scope(w, row, level, within)
            if scope is None:
                continue
        age = row_age(row) if "dimension:age_group" in by else None
        label = "%s %s%s" % (row.get("neighborhood") or "total", age or "", "")
        cells.append((label.strip(), scope, age, row))
    tot = js.get("total")
    if isinstance(tot, dict) and "period" not in by:
        cells.append(("total", base_scope, None, tot))
    for label, scope, age, row in cells:
        cov = [m for m in w.cover("enrolled", period, scope, age, meas)
               if within is None or w.in_subtree(m.node, within)]
        if not cov:
            continue
        src = "%s [%s]" % (src_prefix, label)
        n = row.get("measurements")
        if is_num(n) and n != len(cov):
            sysm.unmodelled.append("%s: measurements %s, model %d" % (src, n, len(cov)))
            continue
        v = row.get("value")
        if is_num(v):
            sysm.add(cov, v - 1e-6, v + 1e-6, src + " value=%s" % fmt(v))
        elif is_num(row.get("mean")) and is_num(n):
            s = row["mean"] * n
            sysm.add(cov, s - 1e-6 * n, s + 1e-6 * n, src + " mean*n")
        key = tuple(sorted(sysm.idx[id(m)] for m in cov))
        if row.get("suppressed") is True or v is None:
            withheld.setdefault(key, (cov, row.get("suppression_reason"), src))
        elif visible is not None:
            visible.add(key)


# ----------------------------------------------------------------------------- attacks

class Result:
    def __init__(self, n, name):
        self.n, self.name = n, name
        self.ok = True
        self.lines = []         # LEAK lines
        self.notes = []
        self.seconds = 0.0

    def leak(self, text):
        self.ok = False
        self.lines.append("LEAK " + text)

    def note(self, text):
        self.notes.append(text)


def attack1(api, w, res):
    code = w.ind["wait_max"]
    month = "2025-03"
    path, st, js = report(api, w.viewer, code, by="neighborhood", period=month)
    if st != 200:
        res.note("viewer %s -> %s" % (path, st))
    visible = leaks = 0
    for row in (js or {}).get("rows") or []:
        v = row.get("value")
        if not is_num(v):
            continue
        visible += 1
        cov = w.cover("wait_max", month, ("own", row.get("neighborhood")))
        owners = [m for m in cov if abs(m.value - v) < 1e-9]
        if owners:
            leaks += 1
            if leaks <= 2:
                res.leak("viewer GET %s: %s value=%s is %s's own figure %s"
                         % (path, row.get("neighborhood"), fmt(v), owners[0].partner[len(w.P):], fmt(owners[0].value)))
    res.note("viewer: %d visible max cells, %d equal one partner's figure" % (visible, leaks))
    # a partner in a 3-partner cell: value (= max) and mean x measurements give both peers
    solved = tried = 0
    for p in (w.p4, w.p5, w.school, w.p8, w.p9, w.p6, w.p7):
        path, st, js = report(api, w.keys[p], code, by="neighborhood,period", **{"from": MONTHS[0], "to": MONTHS[-1]})
        if st != 200:
            res.note("partner %s -> %s" % (path, st))
            continue
        for row in (js or {}).get("rows") or []:
            v, mean, n = row.get("value"), row.get("mean"), row.get("measurements")
            period = str(row.get("period"))
            cov = w.cover("wait_max", period, ("own", row.get("neighborhood") or ""))
            mine = [m for m in cov if m.partner == p]
            if len(cov) != 3 or len(mine) != 1:
                continue
            tried += 1
            if not (is_num(v) and is_num(mean)):
                continue
            n = n if is_num(n) else 3
            a = mine[0].value
            if a >= v:          # the attacker holds the max itself: only the peers' sum follows
                continue
            peer1, peer2 = v, mean * n - a - v
            true = sorted(m.value for m in cov if m.partner != p)
            got = sorted([peer1, peer2])
            if within_margin(got[0], true[0]) and within_margin(got[1], true[1]):
                solved += 1
                if solved <= 2:
                    res.leak("partner %s GET %s: %s %s value(max)=%s mean=%s x %s, own %s -> peers %s, %s; true %s, %s"
                             % (p[len(w.P):], path, row.get("neighborhood"), period, fmt(v), fmt(mean), n, fmt(a),
                                fmt(got[0]), fmt(got[1]), fmt(true[0]), fmt(true[1])))
        if solved >= 2:
            break
    res.note("partners: %d own 3-partner cells seen, both peers solved in %d" % (tried, solved))
    if res.ok:
        res.detail = "no max cell value equals a partner's figure (%d visible); no 3-partner cell solved (%d tried)" % (visible, tried)
    else:
        res.detail = "%d viewer cell(s) = a partner's figure; %d 3-partner cell(s) solved" % (leaks, solved)


def attack2(api, w, res):
    code = w.ind["pass_rate"]
    checked = leaks = 0
    for params in ({"by": "neighborhood,period"}, {"by": "neighborhood,period", "level": 1},
                   {"by": "period"}):
        q = dict(params, **{"from": MONTHS[0], "to": MONTHS[-1]})
        path, st, js = report(api, w.viewer, code, **q)
        if st != 200:
            res.note("viewer %s -> %s" % (path, st))
            continue
        level = params.get("level")
        for row in (js or {}).get("rows") or []:
            period = str(row.get("period"))
            if "neighborhood" in params["by"]:
                scope = row_scope(w, row, level, None)
            else:
                scope = "all"
            if scope is None:
                continue
            cov = w.cover("pass_rate", period, scope)
            school = [m for m in cov if m.partner == w.school]
            if not school or not cov:
                continue
            den_share = sum(m.den for m in school) / float(sum(m.den for m in cov))
            if den_share < 0.85:
                continue
            checked += 1
            v = row.get("value")
            if not is_num(v):
                continue
            s_rate = 100.0 * sum(m.num for m in school) / sum(m.den for m in school)
            if within_margin(v, s_rate):
                leaks += 1
                if leaks <= 2:
                    res.leak("viewer GET %s: %s %s rate=%s; the school's own rate %s (%d/%d), %.0f%% of the denominators"
                             % (path, row.get("neighborhood") or "total", period, fmt(v), fmt(round(s_rate, 4)),
                                sum(m.num for m in school), sum(m.den for m in school), 100 * den_share))
    res.detail = ("%d of %d school-dominated cells show the school's rate" % (leaks, checked)) if leaks else \
        "none of %d school-dominated cells is visible" % checked


SHAPES_D1 = [
    {},
    {"by": "neighborhood", "level": 2},
    {"by": "dimension:age_group"},
    {"by": "neighborhood,dimension:age_group", "level": 2},
    {"by": "neighborhood"},
    {"by": "neighborhood,dimension:age_group"},
]
SHAPES_CITY = [
    {},
    {"by": "dimension:age_group"},
    {"by": "neighborhood", "level": 1},
    {"by": "neighborhood,dimension:age_group", "level": 1},
    {"by": "neighborhood", "level": 2},
    {"by": "neighborhood,dimension:age_group", "level": 2},
    {"by": "neighborhood"},
    {"by": "neighborhood,dimension:age_group"},
]


def collect_month_facts(api, w, key, shapes, within, month_list):
    """One request per shape over all months (by=...,period), for the `enrolled` indicator.
    Returns {month: (System, withheld)}; the System has no known values yet."""
    code = w.ind["enrolled"]
    systems = {m: (System(w.cover("enrolled", m, "all"), 500), {}) for m in month_list}
    reqs = []
    for shape in shapes:
        params = dict(shape)
        params["by"] = ",".join([b for b in [params.get("by")] if b] + ["period"])
        params["from"], params["to"] = month_list[0], month_list[-1]
        if within:
            params["within"] = within
        path, st, js = report(api, key, code, **params)
        reqs.append((path, st))
        if st != 200 or not isinstance(js, dict):
            continue
        for month in month_list:
            sysm, withheld = systems[month]
            facts_from(w, sysm, js, params, month, withheld, "GET " + path, within)
    return systems, reqs


def attack3(api, w, res, deadline):
    """The district partner knows its own rows (the district's own cell is its alone)."""
    key = w.keys[w.pdist]
    systems, reqs = collect_month_facts(api, w, key, SHAPES_D1, w.d1, MONTHS)
    bad = [r for r in reqs if r[1] != 200]
    if bad:
        res.note("refused: %s" % bad[:3])
    targets = leaks = 0
    narrowest = None
    for month in MONTHS:
        if time.time() > deadline:
            res.note("time budget reached at %s" % month)
            break
        sysm, withheld = systems[month]
        own = [m for m in sysm.meas if m.partner == w.pdist]
        sysm.known = set(sysm.idx[id(m)] for m in own)
        for key_, (cov, reason, src) in sorted(withheld.items(), key=lambda kv: kv[1][2]):
            if any(m.partner == w.pdist for m in cov):
                continue        # cells it contributes to: its own figure is no target
            if not all(w.in_subtree(m.node, w.d1) and m.node != w.d1 for m in cov):
                continue
            targets += 1
            true = float(sum(m.value for m in cov))
            lo, hi = sysm.bounds(cov)
            if lo is None or hi is None:
                continue
            width = (hi - lo) / max(margin(true), 1e-9)
            if narrowest is None or width < narrowest[0]:
                narrowest = (width, month, src, lo, hi, true)
            if not protected(true, lo, hi, 500 * len(cov)):
                leaks += 1
                if leaks <= 3:
                    binding = sysm.binding
                    res.leak("district partner %s, %s %s: withheld true %s, LP interval [%s, %s] (margin %s); binding facts: %s"
                             % (w.pdist[len(w.P):], month, src.split("[")[-1].rstrip("]"), fmt(true), fmt(lo), fmt(hi),
                                fmt(margin(true)), "; ".join(binding)))
                    res.note("own rows known: %s" % ", ".join("%s %s=%s" % (m.node[len(w.P):], m.age, fmt(m.value)) for m in own))
    unmod = sum(len(s.unmodelled) for s, _ in systems.values())
    facts = sum(len(s.facts) for s, _ in systems.values())
    if unmod:
        res.note("%d facts not modelled, e.g. %s" % (unmod, next(u for s, _ in systems.values() for u in s.unmodelled)))
    nar = "" if narrowest is None else "; narrowest %s %s [%s, %s] true %s" % (
        narrowest[1], narrowest[2].split("[")[-1].rstrip("]"), fmt(narrowest[3]), fmt(narrowest[4]), fmt(narrowest[5]))
    res.detail = "%d facts, %d withheld leaf cells of others bounded, %d narrowed below the margin%s" % (
        facts, targets, leaks, nar)


def attack6(api, w, res):
    code = w.ind["enrolled"]
    counts = []
    for who, key, me in (("viewer", w.viewer, None), ("partner " + w.p4[len(w.P):], w.keys[w.p4], w.p4)):
        for params in ({"by": "partner", "period": "2025-03"},
                       {"by": "neighborhood,partner", "level": 2, "period": "2025-03"},
                       {"by": "partner,period", "from": MONTHS[0], "to": MONTHS[-1]}):
            path, st, js = report(api, key, code, **params)
            if st != 200:
                res.note("%s %s -> %s" % (who, path, st))
                continue
            others = [r for r in (js or {}).get("rows") or []
                      if r.get("partner") is not None and r.get("partner") != me]
            withheld = sum(1 for r in others if r.get("suppressed") is True or r.get("value") is None)
            ids = sorted({r.get("partner") for r in others})
            counts.append(len(others))
            if others:
                res.leak("%s GET %s lists %d rows of %d other partners (%d withheld): %s"
                         % (who, path, len(others), len(ids), withheld,
                            ", ".join(i[len(w.P):] if str(i).startswith(w.P) else str(i) for i in ids[:5])))
    res.detail = ("%d other partners' rows listed" % sum(counts)) if not res.ok else \
        "no other partner's row listed (%d requests)" % len(counts)


REASON_BOUNDS = [
    ("count below", (None, 4.0)),            # a count below 5
    ("fewer than", (None, None)),
    ("complementary", (5.0, None)),          # passed every primary rule: count >= 5
    ("could be estimated", (5.0, None)),     # p%: passed the partner and count rules
    ("dominated", (5.0, None)),              # checked after the partner and count rules
]


def attack7(api, w, res, deadline):
    systems, reqs = collect_month_facts(api, w, w.viewer, SHAPES_CITY, None, MONTHS)
    reasons = {}
    for month in MONTHS:
        for cov, reason, src in systems[month][1].values():
            if reason:
                reasons[reason] = reasons.get(reason, 0) + 1
    shown = sum(reasons.values())
    if shown:
        res.leak("viewer sees %d suppression_reason(s): %s" % (
            shown, "; ".join("%r x%d" % kv for kv in sorted(reasons.items(), key=lambda kv: -kv[1]))))
    # the reasons as LP bounds: how much do they narrow the withheld cells?
    narrowed = newly = bounded = 0
    example = widest = None
    for month in MONTHS:
        if time.time() > deadline:
            res.note("time budget reached at %s" % month)
            break
        sysm, withheld = systems[month]
        extra = []
        for cov, reason, src in withheld.values():
            if not reason:
                continue
            for needle, (lo, hi) in REASON_BOUNDS:
                if needle in reason and (lo is not None or hi is not None):
                    t = float(sum(m.value for m in cov))
                    if (lo is not None and t < lo) or (hi is not None and t > hi):
                        sysm.unmodelled.append("reason %r contradicts true %g" % (reason, t))
                        break
                    extra.append((sysm.coef(cov), -np.inf if lo is None else lo, np.inf if hi is None else hi,
                                  "reason " + reason))
                    break
        if not extra:
            continue
        for cov, reason, src in withheld.values():
            if not cov or len(cov) > 12:
                continue
            bounded += 1
            true = float(sum(m.value for m in cov))
            lo0, hi0 = sysm.bounds(cov)
            lo1, hi1 = sysm.bounds(cov, extra)
            if None in (lo0, hi0, lo1, hi1):
                continue
            if lo1 > lo0 + 1e-6 or hi1 < hi0 - 1e-6:
                narrowed += 1
                nat = 500 * len(cov)
                gain = ((hi0 - lo0) - (hi1 - lo1)) / max(hi0 - lo0, 1e-9)
                if widest is None or gain > widest[0]:
                    widest = (gain, "%s %s [%s]: [%s, %s] -> [%s, %s] with the reasons, true %s"
                              % (month, src.split("[")[-1].rstrip("]"), reason, fmt(lo0), fmt(hi0), fmt(lo1),
                                 fmt(hi1), fmt(true)))
                if protected(true, lo0, hi0, nat) and not protected(true, lo1, hi1, nat):
                    newly += 1
                    if example is None or (hi1 - lo1) < example[0]:
                        example = (hi1 - lo1, "%s %s [%s]: [%s, %s] -> [%s, %s] with the reasons, true %s"
                                   % (month, src.split("[")[-1].rstrip("]"), reason, fmt(lo0), fmt(hi0), fmt(lo1),
                                      fmt(hi1), fmt(true)))
    if shown:
        msg = "%d withheld cells bounded; the reasons narrow %d, %d of them below the margin" % (bounded, narrowed, newly)
        if example:
            msg += "; e.g. " + example[1]
        elif widest:
            msg += "; most narrowed: " + widest[1]
        res.leak(msg)
        res.detail = "%d reasons shown to the viewer; they narrow %d cells (%d below the margin)" % (shown, narrowed, newly)
    else:
        res.detail = "no suppression_reason shown to the viewer (%d withheld cells seen)" % sum(
            len(s[1]) for s in systems.values())


def find_measurement(api, key, w, kind, node, period, age=None):
    q = {"indicator": w.ind[kind], "neighborhood": node, "period": period, "limit": 100}
    st, js = api.call("GET", "/v1/measurements?" + urllib.parse.urlencode(q), key)
    if st != 200:
        return None, st
    for it in (js or {}).get("items") or []:
        dims = it.get("dimensions") or {}
        if age is None or dims.get("age_group") == age:
            return it.get("id"), st
    return None, st


def attack4(api, w, res, model):
    code = w.ind["enrolled"]
    att = w.p4
    key = w.keys[att]
    # 1. find, through by=partner, withheld leaf cells with exactly two other partners
    path_p, st, jsp = report(api, key, code, by="neighborhood,partner,period", level=2,
                             **{"from": MONTHS[0], "to": MONTHS[-1]})
    path_c, st2, jsc = report(api, key, code, by="neighborhood,period", level=2,
                              **{"from": MONTHS[0], "to": MONTHS[-1]})
    listed = {}
    for r in (jsp or {}).get("rows") or []:
        if r.get("partner") and r.get("partner") != att and r.get("neighborhood") in w.members:
            listed.setdefault((r["neighborhood"], str(r.get("period"))), set()).add(r["partner"])
    withheld = {(r.get("neighborhood"), str(r.get("period"))) for r in (jsc or {}).get("rows") or []
                if r.get("suppressed") is True or r.get("value") is None}
    cands = sorted(c for c, ps in listed.items() if len(ps) == 2 and c in withheld and c[0] not in
                   [leaf for leaf, ms in w.members.items() if att in ms])
    how = "found through by=partner (%s)" % path_p
    if not cands:
        # the attacker knows from outside where two others work: d2-n2 (youth-reads, tech-for-all)
        cands = [(w.L["d2-n2"], m) for m in ("2025-06", "2025-07")]
        how = "by=partner listed none; target known from outside"
    res.note("%d candidate cells, %s" % (len(cands), how))
    tries = 0
    for leaf, month in cands[:3] + ([(w.L["d2-n2"], LATE)] if model == "releases" else []):
        true = float(sum(m.value for m in w.cover("enrolled", month, ("sub", leaf))))
        for z in (9, 25, 60):
            tries += 1
            row = {"indicator": code, "neighborhood": leaf, "period": month, "value": z,
                   "dimensions": {"age_group": "25-44"}, "note": "late count"}
            st, js = api.call("POST", "/v1/measurements", key, row)
            if st == 409 or (st in (200, 201) and (js or {}).get("rejected")):
                res.note("POST into %s %s refused (%s %s)" % (leaf[len(w.P):], month, st,
                                                             (js or {}).get("code") or (js or {}).get("title")))
                break
            if st not in (200, 201):
                res.note("POST into %s %s -> %s %s" % (leaf[len(w.P):], month, st, json.dumps(js)[:200]))
                break
            path, st, js = report(api, key, code, by="neighborhood", level=2, period=month)
            cell = next((r for r in (js or {}).get("rows") or [] if r.get("neighborhood") == leaf), None)
            mid, _ = find_measurement(api, key, w, "enrolled", leaf, month, "25-44")
            if mid is not None:
                dst, _ = api.call("DELETE", "/v1/measurements/%s" % mid, key)
                if dst not in (200, 204):
                    res.note("DELETE /v1/measurements/%s -> %s" % (mid, dst))
            else:
                res.note("own row in %s %s not found to retract" % (leaf[len(w.P):], month))
            v = None if cell is None else cell.get("value")
            if not is_num(v):
                res.note("%s %s after inserting %s: %s" % (leaf[len(w.P):], month, z, "no row" if cell is None else
                                                           "withheld" if cell.get("suppressed") else "value null"))
            if is_num(v):
                rec = v - z
                if within_margin(rec, true):
                    res.leak("partner %s POST %s %s value=%s, GET %s -> %s; %s - %s = %s = the two others' withheld %s; then DELETE /v1/measurements/%s"
                             % (att[len(w.P):], leaf[len(w.P):], month, z, path, fmt(v), fmt(v), z, fmt(rec),
                                fmt(true), mid))
                    break
                res.note("%s %s visible after inserting %s: %s (not the others' %s)" % (leaf[len(w.P):], month, z, fmt(v), fmt(true)))
            if not res.ok:
                break
        if not res.ok:
            break
    # after the retraction the cell must be as before (nothing left behind)
    res.detail = ("withheld cell recovered by insert/read/delete" if not res.ok else
                  "no withheld cell recovered (%d insert tries; %s)" % (tries, "; ".join(res.notes[-2:])))


def metrics_total(api, key=None):
    st, raw = api.raw("GET", "/metrics", key, accept="text/plain")
    if st != 200:
        return st, None
    total = 0.0
    for line in raw.decode("utf-8", "replace").splitlines():
        if line.startswith("backbone_measurements_ingested_total"):
            try:
                total += float(line.rsplit(" ", 1)[1])
            except ValueError:
                pass
    return st, total


def watch_read(api, w, month):
    """What a viewer gets of `enrolled` for `month`: ({label: visible value}, [(params, json)])."""
    code = w.ind["enrolled"]
    seen, responses = {}, []
    for shape in SHAPES_CITY:
        params = dict(shape, period=month)
        path, st, js = report(api, w.viewer, code, **params)
        if st != 200 or not isinstance(js, dict):
            continue
        responses.append((params, path, js))
        for row in (js.get("rows") or []) + [dict(js.get("total") or {}, neighborhood="(total)")]:
            v = row.get("value")
            if is_num(v):
                lab = "GET %s [%s%s]" % (path, row.get("neighborhood") or "total",
                                        (" " + row_age(row)) if row_age(row) else "")
                seen[lab] = v
    return seen, responses


def lost_untouched(before, after, touched):
    """Labels of numbers visible before and gone or changed after, in rows whose neighborhood
    is not in `touched` (the nodes above the changed measurement)."""
    out = []
    for lab, v in before.items():
        node = lab.rsplit("[", 1)[-1].rstrip("]").split(" ")[0]
        if node in touched or node in ("(total)", "total"):
            continue
        if after.get(lab) != v:
            out.append(lab)
    return out


def diff_leaks(before, after, figure, what, res, limit=2):
    hits = []
    for lab, v in after.items():
        if lab in before and abs(v - before[lab]) > 1e-9:
            d = v - before[lab]
            if within_margin(d, figure):
                hits.append((lab, before[lab], v, d))
    for lab, b, a, d in hits[:limit]:
        res.leak("%s: %s -> %s, difference %s = %s %s" % (lab, fmt(b), fmt(a), fmt(d), what, fmt(figure)))
    return len(hits)


def withheld_narrowed(sysm, withheld, res, what, visible=(), changed=(), limit=200):
    """Bounds every cell withheld at some moment, never published at another and not made of
    a changed measurement (whose own figure is checked apart), over the facts of every
    moment; LEAK for each one narrowed below its margin. Returns how many."""
    found = 0
    changed = {id(m) for m in changed}
    targets = [v for k, v in withheld.items()
               if k not in visible and not any(id(m) in changed for m in v[0])]
    for cov, reason, src in targets[:limit]:
        true = float(sum(m.value for m in cov))
        lo, hi = sysm.bounds(cov)
        if lo is None or hi is None or protected(true, lo, hi, 500 * len(cov)):
            continue
        found += 1
        if found <= 2:
            res.leak("watcher LP over %s: withheld %s true %s, interval [%s, %s] (margin %s); binding: %s"
                     % (what, src, fmt(true), fmt(lo), fmt(hi), fmt(margin(true)), "; ".join(sysm.binding[:4])))
    return found


def watcher_lp(w, month, reads, late, corr_old, corr_new, res):
    """Everything the watcher read, at every moment, as one LP: the late row and the
    corrected row's old and new values are unknowns of their own. Bounds the late figure,
    the correction and the corrected row's two values, and every cell withheld at any moment."""
    base = [m for m in w.meas["enrolled"] if m.period == month]
    states = [base, base + [late], [m for m in base if m is not corr_old] + [late, corr_new]]
    union = base + [late, corr_new]
    sysm = System(union, 500)
    withheld, visible = {}, set()
    for (responses, state) in zip(reads, states):
        for params, path, js in responses:
            facts_from(w, sysm, js, params, month, withheld, "GET " + path, None, state, visible)
    found = withheld_narrowed(sysm, withheld, res, "the reads before and after", visible, (late, corr_old, corr_new))
    checks = [("%s's late figure" % late.partner[len(w.P):], {id(late): 1.0}, late.value),
              ("%s's old figure" % corr_old.partner[len(w.P):], {id(corr_old): 1.0}, corr_old.value),
              ("%s's corrected figure" % corr_new.partner[len(w.P):], {id(corr_new): 1.0}, corr_new.value),
              ("%s's correction" % corr_new.partner[len(w.P):], {id(corr_new): 1.0, id(corr_old): -1.0},
               corr_new.value - corr_old.value)]
    for what, coef, true in checks:
        c = np.zeros(len(union))
        for k, v in coef.items():
            c[sysm.idx[k]] = v
        lo, hi = sysm.bounds_c(c)
        if lo is None or hi is None:
            continue
        if len(coef) == 1:
            ok = protected(true, lo, hi, 500)
        else:       # a change: its interval must reach the margin on both sides
            ok = lo <= true - margin(true) + 1e-6 and hi >= true + margin(true) - 1e-6
        if not ok:
            found += 1
            res.leak("watcher LP over the reads before and after: %s true %s, interval [%s, %s] (margin %s); binding: %s"
                     % (what, fmt(true), fmt(lo), fmt(hi), fmt(margin(true)), "; ".join(sysm.binding[:4])))
    if sysm.unmodelled:
        res.note("watcher LP: %d facts not modelled, e.g. %s" % (len(sysm.unmodelled), sysm.unmodelled[0]))
    return found


def attack5(api, w, res, model, coord):
    code = w.ind["enrolled"]
    month = w.watch_month
    p7, leaf, age, z = w.late
    pc, cleaf, cage = w.correction
    det = []
    # /metrics without a key (and with the viewer's)
    for who, k in (("no key", None), ("viewer key", w.viewer)):
        st, tot0 = metrics_total(api, k)
        if st == 200:
            res.leak("GET /metrics with %s -> 200 (ingest counter %s)" % (who, fmt(tot0)))
        det.append("/metrics %s %s" % (who, st))
    st, m0 = metrics_total(api, None)
    # (a) the named partner's late row
    before, read0 = watch_read(api, w, month)
    row = {"indicator": code, "neighborhood": leaf, "period": month, "value": z, "dimensions": {"age_group": age}}
    st, js = api.call("POST", "/v1/measurements", w.keys[p7], row)
    det.append("late row by %s -> %s" % (p7[len(w.P):], st))
    late_ok = st in (200, 201) and not (js or {}).get("rejected")
    if late_ok and model == "releases":
        surprise("a partner's write into released %s was accepted" % month, "POST /v1/measurements")
    if not late_ok:
        res.note("partner %s POST into %s -> %s %s" % (p7[len(w.P):], month, st, (js or {}).get("code")))
    st, m1 = metrics_total(api, None)
    if m0 is not None and m1 is not None and m1 != m0:
        res.leak("GET /metrics (no key): backbone_measurements_ingested_total %s -> %s after %s's submission"
                 % (fmt(m0), fmt(m1), p7[len(w.P):]))
    if model == "releases":
        # the partner's write into the unreleased month: a watcher must see nothing of it
        lb, _ = watch_read(api, w, LATE)
        st, js = api.call("POST", "/v1/measurements", w.keys[p7],
                          {"indicator": code, "neighborhood": w.L["d1-n3"], "period": LATE, "value": 23,
                           "dimensions": {"age_group": "16-24"}})
        la, _ = watch_read(api, w, LATE)
        det.append("%s write -> %s, viewer sees %d/%d numbers of %s" % (LATE, st, len(lb), len(la), LATE))
        old = next((m.value for m in w.meas["enrolled"] if (m.partner, m.node, m.period, m.age) ==
                    (p7, w.L["d1-n3"], LATE, "16-24")), 0)
        if old != 23:
            diff_leaks(lb, la, 23 - old, "%s's change in unreleased %s" % (p7[len(w.P):], LATE), res)
        if not late_ok:
            # the coordinator enters the late row and releases a revision
            row["partner"] = p7
            api.must("POST", "/v1/measurements", coord, row)
            js = api.must("POST", "/v1/releases", coord, {"agenda": w.agenda, "period": month})
            det.append("late row released as revision %s" % (js or {}).get("revision"))
    after, read1 = watch_read(api, w, month)
    n_late = diff_leaks(before, after, float(z), "%s's late figure" % p7[len(w.P):], res)
    if model == "releases":
        lost = lost_untouched(before, after, {w.city, w.districts[1], leaf})
        if lost:
            surprise("a revision withholds cells its change does not touch (%d numbers of %s, e.g. %s)"
                     % (len(lost), month, lost[0].split(" [")[-1].rstrip("]")), lost[0])
    det.append("viewer numbers of %s: %d before, %d after the late row (%d changed)" % (
        month, len(before), len(after), sum(1 for k, v in after.items() if k in before and before[k] != v)))
    # (b) a correction of an existing row
    cm = next(m for m in w.meas["enrolled"] if (m.partner, m.node, m.period, m.age) == (pc, cleaf, month, cage))
    new = cm.value + 9 if cm.value < 60 else cm.value - 9
    delta = new - cm.value
    before = after
    body = {"indicator": code, "neighborhood": cleaf, "period": month, "value": new, "dimensions": {"age_group": cage}}
    st, js = api.call("POST", "/v1/measurements", w.keys[pc], body)
    corr_ok = st in (200, 201) and not (js or {}).get("rejected")
    det.append("correction by %s -> %s" % (pc[len(w.P):], st))
    if corr_ok and model == "releases":
        surprise("a partner's correction in released %s was accepted" % month, "POST /v1/measurements")
    if not corr_ok and model == "releases":
        body["partner"] = pc
        api.must("POST", "/v1/measurements", coord, body)
        js = api.must("POST", "/v1/releases", coord, {"agenda": w.agenda, "period": month})
        det.append("correction released as revision %s" % (js or {}).get("revision"))
    after, read2 = watch_read(api, w, month)
    n_corr = diff_leaks(before, after, float(delta), "%s's correction %s -> %s:" % (pc[len(w.P):], cm.value, new), res)
    det.append("%d after the correction (%d changed)" % (
        len(after), sum(1 for k, v in after.items() if k in before and before[k] != v)))
    # (c) all three moments as one linear system
    late_m = M(p7, leaf, month, z, age=age)
    new_m = M(pc, cleaf, month, new, age=cage)
    n_lp = watcher_lp(w, month, [read0, read1, read2], late_m, cm, new_m, res)
    if model == "releases":
        # a revision of an unchanged month must publish what the first one did
        b12, r12a = watch_read(api, w, MONTHS[-1])
        js = api.must("POST", "/v1/releases", coord, {"agenda": w.agenda, "period": MONTHS[-1]})
        a12, r12b = watch_read(api, w, MONTHS[-1])
        sys12 = System([m for m in w.meas["enrolled"] if m.period == MONTHS[-1]], 500)
        wh12, vis12 = {}, set()
        for params, path, rjs in r12a + r12b:
            facts_from(w, sys12, rjs, params, MONTHS[-1], wh12, "GET " + path, None, None, vis12)
        n_lp += withheld_narrowed(sys12, wh12, res, "both releases of unchanged %s" % MONTHS[-1], vis12)
        lost = lost_untouched(b12, a12, set())
        det.append("unchanged %s re-released as revision %s: %d of %d numbers kept" % (
            MONTHS[-1], (js or {}).get("revision"), len(b12) - len(lost), len(b12)))
        if lost:
            surprise("re-releasing an unchanged month withholds numbers its first release published (%d of %d)"
                     % (len(lost), len(b12)), lost[0])
    res.detail = "late row seen in %d cell differences, correction in %d, LP over the moments narrows %d; %s" % (
        n_late, n_corr, n_lp, "; ".join(det))


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--coordinator-key", required=True)
    ap.add_argument("--seed", type=int, default=22, help="the data's seed (ids are random per run)")
    ap.add_argument("--time-limit", type=float, default=80.0)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated attack numbers (default: all)")
    args = ap.parse_args()
    t0 = time.time()
    deadline = t0 + args.time_limit
    api = Api(args.url)
    coord = args.coordinator_key
    api.coordinator = coord
    prefix = "x%s-" % os.urandom(3).hex()
    w = World(prefix, args.seed)
    try:
        n = w.build(api, coord)
        model, rel = release_all(api, coord, w)
    except Exception as e:
        print("setup failed: %s: %s" % (type(e).__name__, e))
        for m, p, s, b in api.server_errors[:10]:
            print("    %s %s -> %s %s" % (m, p, s, b))
        sys.exit(2)
    api.model = model
    print("deployment %s: %d measurements, 9 partners, 13 neighborhoods, 5 indicators; %s (%.1fs)"
          % (prefix, n, rel, time.time() - t0))
    sys.stdout.flush()
    results = []
    plan = [
        (1, "max-min", lambda r: attack1(api, w, r)),
        (2, "dominated-ratio", lambda r: attack2(api, w, r)),
        (3, "district-partner-lp", lambda r: attack3(api, w, r, deadline - 25)),
        (6, "by-partner-rows", lambda r: attack6(api, w, r)),
        (7, "reasons-as-bounds", lambda r: attack7(api, w, r, deadline - 15)),
        (4, "insert-read-delete", lambda r: attack4(api, w, r, model)),
        (5, "watcher-diff", lambda r: attack5(api, w, r, model, coord)),
    ]
    only = {int(x) for x in args.only.split(",") if x}
    for num, name, fn in plan:
        if only and num not in only:
            continue
        r = Result(num, name)
        r.detail = ""
        t1 = time.time()
        try:
            fn(r)
        except Exception as e:          # an attack that cannot run is a failure to look at
            r.ok = False
            r.lines.append("ERROR %s: %s" % (type(e).__name__, e))
            r.detail = "could not run"
        r.seconds = time.time() - t1
        results.append(r)
    results.sort(key=lambda r: r.n)
    for r in results:
        print("attack-%d %s: %s %s (%.1fs)" % (r.n, r.name, "PASS" if r.ok else "FAIL", r.detail, r.seconds))
        for line in r.lines:
            print("    " + line)
        if args.verbose or not r.ok:
            for line in r.notes:
                print("    note: " + line)
    if CONTRACT:
        print("contract surprises: %d" % len(CONTRACT))
        for text, path in sorted(CONTRACT.items()):
            print("    %s (first: %s)" % (text, path))
    if api.server_errors:
        print("server errors (5xx): %d" % len(api.server_errors))
        for m, p, s, b in api.server_errors[:10]:
            print("    %s %s -> %s %s" % (m, p, s, b))
    passed = sum(1 for r in results if r.ok)
    failed = len(results) - passed
    print("model: %s; %d requests in %.1fs" % (model, api.requests, time.time() - t0))
    print("attacks: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
