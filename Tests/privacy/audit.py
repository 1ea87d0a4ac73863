#!/usr/bin/env python3
"""Backbone privacy auditor: an attacker per reader that tries to read partners' numbers off
what the server publishes to partner and viewer keys, over releases and revisions, and
fails the run when it can.

    python3 Tests/privacy/audit.py --url http://127.0.0.1:PORT --coordinator-key KEY \
        --seeds 1,2,3 [--verbose] [--time-limit S] [--budget N]

THE DEPLOYMENT. For each seed (random.Random(seed)) it builds, through the HTTP API with the
coordinator key, a random deployment with ids prefixed ``s<seed>-<run>-`` (seeds and repeated
runs share one database): an agenda; a city -> districts -> leaves tree with populations;
5-8 partners (one serving the whole city, one a district, the others one to five leaves,
some also a district; two of them dominant); 3-4 months of 2025; and six monthly indicators:
``enrolled`` (count, sum, one dimension, max 100, baseline and target), ``sessions`` (count,
sum, target only), ``score`` (score, mean, 0-100), ``rate`` (percent, ratio: numerator and
denominator per measurement), ``peak`` (max) and ``low`` (min). Values mix small and large
ones, cells with one or two partners and dominated cells.

RELEASES. Right after creating the deployment the coordinator releases every month
(``POST /v1/releases {"agenda", "period"}``), before any partner or viewer key reads. The
attacker's facts are only what non-coordinator keys can read. Then, as a revision, the
coordinator corrects three values of one released month (one a x10 slip, two small) and adds a
row for one partner (with ``partner`` in the row, as coordinators do), releases that month again
(revision 2), and the attacker collects again. Between the correction and the new release a
sample of the viewer's reads is repeated: anything that moved there is modelled too. A server
without ``/v1/releases`` (404) is read live: the run says so ("no releases, read live") and
the same model applies (each collection sees the data as it then is).

WHAT IS COLLECTED. Partner and viewer keys read the same released numbers, so the public
aggregates are collected once, with the viewer key: indicator reports over combinations of
``by`` x ``level`` x ``within`` x period selections (single months, quarters, the year,
``from``/``to`` ranges, ``period_type``; after the revision only requests that include the
revised month), the scorecard and the equity view. Each partner key then reads its own
``by=partner`` rows (alone and with period, neighborhood, dimension) and repeats a sample of the
viewer's requests; an answer that differs from the viewer's is a fact for that partner only.

THE ADVERSARIES: one per reader. The outsider (the viewer key) knows only what is published;
EVERY partner of the deployment is an adversary of its own: it reads what the viewer reads plus
its own ``by=partner`` rows, and knows each value it submitted exactly (all versions), hence
every cell it alone contributes to. Two partners pooling what they know are out of scope (as in
docs/privacy.md#readers). Each adversary runs its own family of linear programs.

THE MODEL. The attacker knows the structure (which partner reported which finest cell: partner
x neighborhood x month x dimension values, and which measurements the revision changed) and
treats every published number as a linear fact about the unknowns. Unknowns: per measurement
and version, x (``sum``, ``mean``), or for ``ratio`` three families: numerator n, denominator d
and the measurement's own rate s = 100 n/d (the server's ``mean`` of a ratio cell is the mean of
these rates, which is not linear in n and d; s is a separate family tied to n and d by nothing,
which is a weaker attacker than reality but keeps the LP linear; n and d stay in one LP,
coupled by the rate facts, so a ratio indicator's LP has 3 unknowns per measurement and
version, no more). A corrected measurement has
two unknowns (before and after), an unchanged one a single unknown shared by both releases, the
added row one unknown that only the revision sees. Facts: ``value`` (sum: sum of x; mean:
mean x measurements = sum of x; ratio: the published rate r gives sum(n) - r/100 sum(d) = 0,
linear in n and d, as two inequalities when r is rounded), ``mean`` (sum: sum of x / count;
ratio: sum of s), ``per_1000`` x population/1000, ``progress`` (value = baseline + progress x
(target - baseline)), ``change`` (value minus the previous period's; for ratio only when the
current value is shown, then it is the previous cell's rate), the equity ``gap`` and ``rank``
order, the scorecard's value / previous value / trend / progress, and ``min``/``max``/``median``
as bounds on single values. Which measurements a report cell covers follows the README: a
neighborhood row at ``level`` L covers the measurements reported at that node or below it (one
reported above L keeps its own row); with no level a row covers only that exact code;
``within`` restricts to a subtree; the total covers all selected measurements. Every fact is
first checked against the true data the auditor posted (for the version the collection saw);
one that does not hold is dropped and counted as "unmodelled" (--verbose lists them), so a
different but legitimate server behaviour cannot produce false leaks. Known: x >= 0, x <= the
indicator's declared max, 0 <= n <= d (a percentage), 0 <= s <= 100, and a partner's own values.

TARGETS, bounded with scipy.optimize.linprog (HiGHS) below and above:
  * every partner reader: every peer's individual figure, each measurement of another partner
    in every version (x; for ratio n and d, and s when any rate is published), withheld or not
    (not for the outsider: a partner knows strictly more, so a figure protected against every
    other partner is protected against the outsider);
  * every reader: every withheld single-period cell of both releases, judged by its hidden
    part, the part the reader does not know (for the outsider the whole cell, for a partner the
    cell less its own measurements; nothing left: its own cell, no target): its value (sum: sum
    of x; mean: the mean; ratio: the sum of numerators, the sum of denominators, and the mean of
    rates when any rate is published). Three cases differ: (a) the very same cell shown with a
    value in the same release stays a target (the server contradicts itself); (b) a hidden part
    shown in some visible cell (the cell in the other release when only the reader's own value
    changed; for a partner, a cell that differs only by its own measurements) is published, not
    a secret: skipped; (c) a hidden part shown in the other release with other versions of the
    same measurements (corrected or added ones) still hides the change between the two releases:
    the target is that change (value sums, numerator and denominator sums, rate sums; it may be
    negative). A withheld revision cell whose first release was shown cannot hide its old value,
    so it is judged by what the revision put in.
A cell over several periods is withheld because one of its periods is; what it hides is that
period's cell, checked on its own.

PROTECTION INTERVAL. A true value v with attacker interval [lo, hi] is protected when
    hi >= min(v + m(v), the target's natural maximum)   and
    lo <= max(v - m(v), the target's natural minimum),    where m(v) = max(0.10 * |v|, 2),
the natural range being what the target's coefficients allow over 0 <= u <= the declared
maximum (for a sum of values: 0 to n x max). Anything else is a leak, reported with the
requests that produce it (the binding facts of the LP).

THE LPs are solved in the unknowns' own sparse space. Most targets are protected, and showing
it takes two feasible points per target (one at least its margin below the true value, one
above), not an optimum: batched LPs (maximise sum_t min(1, side_t (c_t.u - v_t) / need_t) over
hundreds of targets at once) find such witnesses; a target no batch settles gets its own LPs
(exact bounds), and only an exact bound can make a leak. A solver failure counts as unbounded
(no false leak) and is reported.

METADATA RULES, checked as assertions on every non-coordinator answer: no
``suppression_reason``; ``min``/``max``/``median`` null; a withheld cell shows no
``measurements``/``partners``; a partner's ``by=partner`` answer has no row of another partner
and a viewer's none at all; ``max``/``min`` indicators show no value at all (every row and
total withheld, and no value, previous value, progress, projection or trend in the
scorecard; this includes a partner's own ``by=partner`` rows, reported as such); once the server
releases, the viewer's answers do not move between the coordinator's corrections and the new
release; and, once per run, ``GET /metrics`` is refused (401/403) without the coordinator key
(no key, a viewer key, a partner key).

Fixed cases (a small deployment ``fx-<run>-``, both months released): partner pd alone in leaf
n3 in 2025-05 with 7 (withheld); (a) level=1 district north 130 minus n1 60 and n2 63; (b)
within=north total 130 minus the same; (c) by=period within=n3 total 26 minus 2025-06 n3 19.
Each is replayed literally and by the LP (all readers).

Limits: collection is a budgeted sample of request shapes (``--budget``; the first requests are
the most telling: every by x level x single period; after the revision about half as many, all
touching the revised month); equations are deduplicated; the LPs stop at the time limit (then
the seed says INCOMPLETE with the number of targets not checked). Two partners pooling what
they know are not modelled. Ratio rates are tied to numerators and denominators by nothing
(see THE MODEL). Only the coordinator writes (corrections, the added row); partners' own
writes into released periods are not exercised here.

Output per seed: the deployment, what was released and revised, requests, visible and withheld
cells, the adversaries with the number of distinct equations each one has per indicator and the
targets it checked, the narrowest protection interval (value, interval, margin), the metadata
rules, the leaks. Final line ``privacy: N passed, M failed`` (seeds, the /metrics rule and the
fixed checks); exit status 1 on any failure.
"""
import argparse
import copy
import itertools
import json
import os
import random
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shared import MARGIN_ABS, MARGIN_REL, KeepAliveClient, in_subtree, margin  # noqa: E402

try:
    from scipy.optimize import linprog
    import scipy.sparse  # noqa: F401  (the LPs are sparse)
except ImportError:  # pragma: no cover
    sys.exit("audit.py needs scipy: python3 -m pip install -q scipy")

BOTH = frozenset((1, 2))          # a measurement both releases see (unchanged)
LP_AGGS = ("sum", "mean", "ratio")



def protected(v, lo, hi, natural_lo=0.0, natural_hi=np.inf):
    """The attacker's interval [lo, hi] reaches the margin on both sides of v (or the end of
    the target's natural range: 0 below for a sum of non-negative values, the declared
    maximum above)."""
    m = margin(v)
    return hi >= min(v + m, natural_hi) - 1e-6 and lo <= max(v - m, natural_lo) + 1e-6


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

class Api(KeepAliveClient):
    """A few requests at a time (collection is parallel), until a deadline."""

    def __init__(self, url, deadline, workers=3):
        super().__init__(url)
        self.deadline = deadline
        self.pool = ThreadPoolExecutor(max_workers=workers)

    def call(self, method, path, key, body=None, accept="application/json"):
        st, raw = self.send(method, path, key, body, accept)
        return st, self.parse(raw)

    def many(self, calls):
        """[(method, path, key)] -> [(status, json)] in order, a few at a time."""
        return list(self.pool.map(lambda c: self.call(*c), calls))


# ----------------------------------------------------------------------------- deployment

class Meas:
    """One unknown: a measurement as one release saw it. ``vers`` is the set of collections
    (1 = first releases, 2 = after the revision) that see it; a corrected measurement is two
    Meas (``prev`` links the new one to the old)."""
    __slots__ = ("idx", "partner", "node", "month", "dims", "value", "num", "den", "vers", "prev")

    def __init__(self, idx, partner, node, month, dims, value, num=None, den=None, vers=BOTH, prev=None):
        self.idx, self.partner, self.node = idx, partner, node
        self.month, self.dims, self.value = month, dims, value
        self.num, self.den, self.vers, self.prev = num, den, vers, prev

    def natural_key(self):
        return (self.partner, self.node, self.month, tuple(sorted(self.dims.items())))


VALUE_TYPE = {"sum": "count", "mean": "score", "ratio": "percent", "max": "count", "min": "count"}


class Indicator:
    """An indicator and its unknowns. For sum/mean there is one unknown per Meas (x[j] at j);
    for ratio three: numerator at j, denominator at N+j, the measurement's rate at 2N+j."""

    def __init__(self, code, agg, dims, vmax, baseline, target):
        self.code, self.agg, self.dims, self.vmax = code, agg, dims, vmax   # dims: {name: [values]}
        self.baseline, self.target = baseline, target                       # numbers or None
        self.value_type = VALUE_TYPE[agg]
        self.scale = 100.0 if agg == "ratio" else 1.0
        self.meas = []

    @property
    def short(self):
        return self.code.rsplit("-", 1)[-1]

    def add(self, partner, node, month, dims, value=None, num=None, den=None, vers=BOTH, prev=None):
        if self.agg == "ratio":
            value = num / den * self.scale
        m = Meas(len(self.meas), partner, node, month, dims, value, num, den, vers, prev)
        self.meas.append(m)
        return m

    def nvars(self):
        return 3 * len(self.meas) if self.agg == "ratio" else len(self.meas)

    def truth(self):
        if self.agg == "ratio":
            return np.array([m.num for m in self.meas] + [m.den for m in self.meas] +
                            [m.value for m in self.meas], dtype=float)
        return np.array([m.value for m in self.meas], dtype=float)

    def upper(self):
        n = len(self.meas)
        if self.agg == "ratio":
            return np.concatenate([np.full(2 * n, np.inf), np.full(n, self.scale)])
        return np.full(n, np.inf if self.vmax is None else float(self.vmax))

    def unit(self, j):
        """The unknown that is measurement j's own value (a ratio: its rate)."""
        return 2 * len(self.meas) + j if self.agg == "ratio" else j

    def variables(self, j):
        n = len(self.meas)
        return [j, n + j, 2 * n + j] if self.agg == "ratio" else [j]

    def value_coef(self, cov):
        """The cell's value as a linear form, or None (ratio)."""
        if self.agg == "sum":
            return {j: 1.0 for j in cov}
        if self.agg == "mean":
            return {j: 1.0 / len(cov) for j in cov}
        return None

    def true_value(self, cov):
        if not cov:
            return None
        ms = [self.meas[j] for j in cov]
        if self.agg == "sum":
            return float(sum(m.value for m in ms))
        if self.agg == "mean":
            return float(sum(m.value for m in ms)) / len(ms)
        if self.agg == "ratio":
            den = sum(m.den for m in ms)
            return None if den == 0 else sum(m.num for m in ms) / den * self.scale
        if self.agg == "max":
            return float(max(m.value for m in ms))
        return float(min(m.value for m in ms))

    def row(self, m, with_partner=True):
        r = {"indicator": self.code, "neighborhood": m.node, "period": month_str(m.month)}
        if with_partner:
            r["partner"] = m.partner
        if self.agg == "ratio":
            r["numerator"], r["denominator"] = m.num, m.den
        else:
            r["value"] = m.value
        if self.dims:
            r["dimensions"] = dict(m.dims)
        return r


class Deployment:
    def __init__(self, prefix):
        self.prefix = prefix
        self.agenda = prefix + "ag"
        self.parent, self.depth, self.pop = {}, {}, {}
        self.partners = []
        self.indicators = []
        self.months = []
        self.serves = {}
        self.revision = None        # (month, [(indicator, old Meas, new Meas)], (indicator, added Meas))

    def add_node(self, code, parent, pop):
        self.parent[code] = parent
        self.depth[code] = 0 if parent is None else self.depth[parent] + 1
        self.pop[code] = pop

    def ancestor(self, node, level):
        while self.depth[node] > level:
            node = self.parent[node]
        return node

    def in_subtree(self, node, top):
        return in_subtree(self.parent, node, top)

    def lp_indicators(self):
        return [i for i in self.indicators if i.agg in LP_AGGS]

    def create(self, api, key):
        api.must("POST", "/v1/agendas", key, {"id": self.agenda, "name": "Audit " + self.agenda,
                                              "starts_on": "2024-01-01"})
        for ind in self.indicators:
            body = {"code": ind.code, "agenda": self.agenda, "name": "Audit " + ind.code,
                    "value_type": ind.value_type, "aggregation": ind.agg, "period_type": "month",
                    "direction": "increase", "unit": "percent" if ind.agg == "ratio" else "people"}
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
        rows = [ind.row(m) for ind in self.indicators for m in ind.meas if 1 in m.vers]
        self.post_rows(api, key, rows)

    @staticmethod
    def post_rows(api, key, rows):
        for i in range(0, len(rows), 500):
            js = api.must("POST", "/v1/measurements", key, {"measurements": rows[i:i + 500]})
            if js and js.get("rejected"):
                raise RuntimeError("measurements rejected: %s" % js.get("errors"))

    def release(self, api, key, period):
        """POST /v1/releases; returns the release, or None when the server has no releases (404)."""
        st, js = api.call("POST", "/v1/releases", key, {"agenda": self.agenda, "period": period})
        if st == 404:
            return None
        if st not in (200, 201) or not isinstance(js, dict):
            raise RuntimeError("POST /v1/releases %s -> %s %s" % (period, st, json.dumps(js)[:500]))
        return js


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
    d.indicators = [
        Indicator(P + "enrolled", "sum", dims, 100, 300, 900),
        Indicator(P + "sessions", "sum", {}, None, None, 400),
        Indicator(P + "score", "mean", {}, 100, 40, 80),
        Indicator(P + "rate", "ratio", {}, None, 30, 60),
        Indicator(P + "peak", "max", {}, None, None, None),
        Indicator(P + "low", "min", {}, None, None, None),
    ]
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
    d.serves = serves
    dominant = set(rng.sample(d.partners, 2))

    def draw(p, ind):
        r = rng.random()
        if ind.agg == "mean":
            return rng.randint(0, 100) if r < 0.3 else rng.randint(30, 90)
        if p in dominant and r < 0.5:
            return rng.randint(60, 100)
        if r < 0.15:
            return rng.randint(0, 2)
        if r < 0.25:
            return rng.randint(60, 100)
        return rng.randint(3, 40)

    def draw_ratio(p):
        r = rng.random()
        if p in dominant and r < 0.5:
            den = rng.randint(150, 400)             # dominated by its denominator
        elif r < 0.2:
            den = rng.randint(1, 8)
        else:
            den = rng.randint(10, 120)
        return int(round(den * rng.uniform(0.05, 0.95))), den

    for ind in d.indicators:
        combos = [dict(zip(ind.dims, vals)) for vals in itertools.product(*ind.dims.values())] or [{}]
        skip = 0.2 if ind.agg in ("sum", "mean", "ratio") else 0.5
        for p in d.partners:
            for node in serves[p]:
                for mk in d.months:
                    if rng.random() < skip:
                        continue
                    for dv in combos:
                        if ind.dims and rng.random() < 0.3:
                            continue
                        if ind.agg == "ratio":
                            num, den = draw_ratio(p)
                            ind.add(p, node, mk, dv, num=num, den=den)
                        else:
                            ind.add(p, node, mk, dv, draw(p, ind))
    return d


def plan_revision(d, rng):
    """Corrections of one released month (one x10 slip, two small) and one added row; the
    indicators' unknowns grow accordingly (old versions keep vers={1}, new ones get vers={2})."""
    month = rng.choice(d.months)
    cands = [(ind, m) for ind in d.lp_indicators() for m in ind.meas if m.month == month and m.vers == BOTH]
    picks = rng.sample(cands, min(3, len(cands)))
    changes = []
    for k, (ind, m) in enumerate(picks):
        cap = ind.vmax if ind.vmax is not None else 10 ** 6
        if ind.agg == "ratio":
            num, den = m.num, m.den
            if k == 0:
                num = num // 10 if num >= 10 else min(den, num * 10 + 1)
            else:
                num = min(den, max(0, num + rng.choice([-1, 1]) * rng.randint(1, 4)))
                den = max(num, 1, den + rng.randint(-3, 6))
            if (num, den) == (m.num, m.den):
                den += 2
            new = dict(num=num, den=den)
        else:
            v = m.value
            if k == 0:
                nv = v // 10 if v >= 10 else min(cap, v * 10 + rng.randint(1, 9))
            else:
                nv = min(cap, max(0, v + rng.choice([-1, 1]) * rng.randint(1, 5)))
            if nv == v:
                nv = min(cap, v + 3) if v + 3 <= cap else v - 3
            new = dict(value=nv)
        m.vers = frozenset((1,))
        m2 = ind.add(m.partner, m.node, m.month, m.dims, vers=frozenset((2,)), prev=m.idx, **new)
        changes.append((ind, m, m2))
    added = None
    for _ in range(200):
        ind = rng.choice(d.lp_indicators())
        p = rng.choice(d.partners)
        node = rng.choice(d.serves[p])
        combos = [dict(zip(ind.dims, vals)) for vals in itertools.product(*ind.dims.values())] or [{}]
        dv = rng.choice(combos)
        key = (p, node, month, tuple(sorted(dv.items())))
        if any(m.natural_key() == key for m in ind.meas):
            continue
        if ind.agg == "ratio":
            den = rng.randint(10, 120)
            m = ind.add(p, node, month, dv, num=rng.randint(1, den), den=den, vers=frozenset((2,)))
        elif ind.agg == "mean":
            m = ind.add(p, node, month, dv, rng.randint(20, 90), vers=frozenset((2,)))
        else:
            m = ind.add(p, node, month, dv, rng.randint(3, 40), vers=frozenset((2,)))
        added = (ind, m)
        break
    d.revision = (month, changes, added)
    return d.revision


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
    ind = Indicator(P + "visits", "sum", {}, None, None, None)
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
        ind.add(p, P + n, mk, {}, v)
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
        if level is not None and within and level < d.depth[within]:
            return None                         # 422 level-above-within: not worth a request
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
        if s is not None and s not in seen:
            seen.add(s)
            lst.append(s)

    for by in by_opts:
        for level in levels:
            for per in basic:
                if by == "partner" and (level is not None or per):
                    continue                    # a viewer's by=partner: a few are enough to check
                add(first, q(by, level, None, per))
    for w in nodes:
        for by in ("", "period", "neighborhood"):
            for per in [{}] + [{"period": m} for m in months]:
                add(first, q(by, None, w, per))
    rest = []
    for by in by_opts:
        if by == "partner":
            continue
        for level in levels:
            for w in withins:
                for per in basic + extra:
                    add(rest, q(by, level, w, per))
    rng.shuffle(rest)
    allq = first + rest
    return allq if budget is None else allq[:budget]


def own_queries(d, ind):
    """What a partner key reads of its own rows (by=partner)."""
    months = [month_str(m) for m in d.months]
    qs = ["by=partner", "by=partner,period", "by=partner,neighborhood&period=" + months[-1],
          "by=partner,neighborhood,period&level=1"]
    if ind.agg in ("max", "min"):
        qs = qs[:2]
    for name in ind.dims:
        qs.append("by=partner,dimension:" + name)
    return [q.replace(",", "%2C").replace(":", "%3A") for q in qs]


def minmax_queries(d, ind):
    months = [month_str(m) for m in d.months]
    qs = [{}, {"by": "neighborhood"}, {"by": "period"}, {"by": "neighborhood,period"},
          {"by": "neighborhood", "level": 1, "period": months[0]}, {"by": "partner"},
          {"by": "period", "period_type": "quarter"}]
    return [urllib.parse.urlencode(p) for p in qs]


def touches(qs, month):
    """Whether a report query's period selection includes `month` (no selection: all)."""
    return Request(dict(urllib.parse.parse_qsl(qs))).month_ok(month)


# ----------------------------------------------------------------------------- facts

class Facts:
    """Linear facts lo <= sum(coef[k] * u[k]) <= hi about one indicator's unknowns u
    (see Indicator: x, or numerators, denominators and rates)."""

    def __init__(self, ind):
        self.ind = ind
        self.truth = ind.truth()
        self.ub = ind.upper()
        self.rows = {}          # key -> [lo, hi, lo sources, hi sources]
        self.published = 0      # facts seen (before dedup)
        self.unmodelled = []    # (source, reason)
        self.withheld = {}      # coverage tuple -> [source, {collections that saw it withheld}]
        self.visible = {}       # coverage tuple -> {collections that saw it with a value}
        if ind.agg == "ratio":
            n = len(ind.meas)
            for j in range(n):      # validation: a percentage's numerator never exceeds its denominator
                self.add({j: 1.0, n + j: -1.0}, -np.inf, 0.0, "known: numerator <= denominator", known=True)

    def add(self, coef, lo, hi, src, known=False):
        coef = {j: c for j, c in coef.items() if c != 0}
        if not coef:
            return
        if not known:
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

    def known_rows(self):
        return len(self.ind.meas) if self.ind.agg == "ratio" else 0

    def sum_eq(self, idxs, v, tol, src):
        self.add({j: 1.0 for j in idxs}, v - tol, v + tol, src)

    def has_rates(self):
        if self.ind.agg != "ratio":
            return False
        first = 2 * len(self.ind.meas)
        return any(k >= first for key in self.rows for k, _ in key)

    def value_fact(self, cov, v, tol, src):
        """The cell over `cov` has the value v (+- tol), in the indicator's aggregation."""
        ind = self.ind
        n = len(cov)
        if ind.agg == "sum":
            self.sum_eq(cov, v, tol, src)
        elif ind.agg == "mean":
            self.sum_eq(cov, v * n, tol * n + 1e-9 * n * abs(v), src)
        elif ind.agg == "ratio":
            N, s = len(ind.meas), ind.scale
            if tol <= 1e-7 * max(1.0, abs(v)):          # a full-precision rate: an equation
                coef = {j: 1.0 for j in cov}
                coef.update({N + j: -v / s for j in cov})
                self.add(coef, 0.0, 0.0, src)
            else:                                       # a rounded one: two inequalities
                coef = {j: 1.0 for j in cov}
                coef.update({N + j: -(v + tol) / s for j in cov})
                self.add(coef, -np.inf, 0.0, src)
                coef = {j: 1.0 for j in cov}
                coef.update({N + j: -max(0.0, v - tol) / s for j in cov})
                self.add(coef, 0.0, np.inf, src)

    def diff_fact(self, cov, pcov, lo, hi, src):
        """lo <= value(cov) - value(pcov) <= hi, for linear aggregations. False if not linear."""
        a, b = self.ind.value_coef(cov), self.ind.value_coef(pcov)
        if a is None or b is None:
            return False
        coef = dict(a)
        for j, c in b.items():
            coef[j] = coef.get(j, 0.0) - c
        self.add(coef, lo, hi, src)
        return True

    def cell(self, cov, row, src, pops=(), ctx=None, ver=1):
        """Facts from one published report cell covering measurement indices cov."""
        cov = sorted(cov)
        if not cov:
            return
        ind = self.ind
        tv = ind.true_value(cov)
        val = row.get("value")
        suppressed = row.get("suppressed") is True or val is None
        if suppressed:
            reason = row.get("suppression_reason")
            self.withheld.setdefault(tuple(cov), [src + (" [%s]" % reason if reason else ""), set()])[1].add(ver)
        else:
            self.visible.setdefault(tuple(cov), set()).add(ver)
        if is_num(val):
            self.value_fact(cov, float(val), decimals_tol(val), src + " value=%s" % val)
        n = len(cov)
        units = [ind.unit(j) for j in cov]
        mean = row.get("mean")
        if is_num(mean):
            self.sum_eq(units, mean * n, decimals_tol(mean) * n + 1e-9 * n * abs(mean),
                        src + " mean=%s" % mean)
        p1k = row.get("per_1000")
        if is_num(p1k):
            tol = decimals_tol(p1k)
            ok = False
            if ind.agg == "sum":
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
            self.value_fact(cov, base + prog * span, decimals_tol(prog) * abs(span) + 1e-9 * abs(base),
                            src + " progress=%s" % prog)
        gap = row.get("gap")
        rate_target = (ctx or {}).get("target_per_1000")
        if is_num(gap) and is_num(rate_target) and tv is not None:
            # A rate gap (equity `compared: rate_per_1000`): the row's rate is the target per
            # 1,000 minus (or plus) the gap, and its value that rate times its population / 1,000.
            tol = decimals_tol(gap) + decimals_tol(rate_target)
            for rate in (rate_target - gap, rate_target + gap):
                slack = tol + 1e-9 * max(1.0, abs(rate))
                fits = [pop for pop in pops if pop and abs(tv * 1000.0 / pop - rate) <= slack]
                if fits:
                    self.value_fact(cov, rate * fits[0] / 1000.0, slack * fits[0] / 1000.0, src + " gap=%s" % gap)
                    break
            else:
                self.unmodelled.append((src + " gap=%s" % gap, "no rate gap fits"))
        elif is_num(gap) and targ is not None and tv is not None:
            for cand in (targ - gap, targ + gap, gap):
                if abs(cand - tv) <= decimals_tol(gap) + 1e-9 * max(1.0, abs(tv)):
                    self.value_fact(cov, cand, decimals_tol(gap) + 1e-9 * max(1.0, abs(tv)), src + " gap=%s" % gap)
                    break
            else:
                self.unmodelled.append((src + " gap=%s" % gap, "no gap formula fits"))
        mn, mx, med = row.get("min"), row.get("max"), row.get("median")
        for u in units:
            if is_num(mn):
                self.add({u: 1.0}, mn - decimals_tol(mn), np.inf, src + " min=%s" % mn)
            if is_num(mx):
                self.add({u: 1.0}, -np.inf, mx + decimals_tol(mx), src + " max=%s" % mx)
        if n == 1:
            for name, x in (("min", mn), ("max", mx), ("median", med)):
                if is_num(x):
                    self.sum_eq(units, float(x), decimals_tol(x), src + " %s=%s" % (name, x))
        if n == 2:
            if is_num(med):
                self.sum_eq(units, 2.0 * med, 2 * decimals_tol(med), src + " median=%s" % med)
            if is_num(mn) and is_num(mx):
                self.sum_eq(units, float(mn + mx), decimals_tol(mn) + decimals_tol(mx),
                            src + " min+max=%s+%s" % (mn, mx))
        if n == 3 and is_num(mn) and is_num(mx) and is_num(med):
            self.sum_eq(units, float(mn + med + mx), decimals_tol(mn) + decimals_tol(mx) + decimals_tol(med),
                        src + " min+median+max=%s+%s+%s" % (mn, med, mx))
        ch = row.get("change")
        if is_num(ch) and ctx is not None and tv is not None:
            tol = decimals_tol(ch) + 1e-9 * max(1.0, abs(tv))
            for name, pcov in ctx.get("prev", []):
                if not pcov:
                    continue
                pv = ind.true_value(pcov)
                if pv is None or abs(tv - pv - ch) > tol:
                    continue
                what = src + " change=%s (vs %s)" % (ch, name)
                if self.diff_fact(cov, pcov, ch - tol, ch + tol, what):
                    break
                if is_num(val):                 # ratio: the previous cell's rate is value - change
                    self.value_fact(pcov, val - ch, tol + decimals_tol(val), what)
                    break
                self.unmodelled.append((what, "a ratio's change without its value"))
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


def selected(d, req, m, variant, ver, ignore_months=False):
    if ver not in m.vers:
        return False
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


def group(d, ind, req, variant, ver, ignore_months=False):
    groups = {}
    for m in ind.meas:
        if selected(d, req, m, variant, ver, ignore_months):
            groups.setdefault(row_key_of(d, req, m), []).append(m.idx)
    return groups


def cell_consistent(ind, cov, row):
    """How well a modelled coverage matches what the row publishes (-1 = contradiction)."""
    score = 0
    if is_num(row.get("measurements")) and not row.get("suppressed"):
        if row["measurements"] != len(cov):
            return -1
        score += 1
    if is_num(row.get("partners")) and not row.get("suppressed"):
        if row["partners"] != len({ind.meas[j].partner for j in cov}):
            return -1
        score += 1
    if is_num(row.get("value")):
        tv = ind.true_value(cov)
        if tv is None or abs(row["value"] - tv) > 1e-6 * max(1.0, abs(tv)):
            return -1
        score += 1
    return score


def model_report(d, ind, req, js, ver):
    """Map a report's rows and total onto coverages. Returns (cells, mismatches, variant, groups)
    where cells is a list of (label, coverage, row, key)."""
    best = None
    for variant in ("new", "old"):
        groups = group(d, ind, req, variant, ver)
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
            cov = [m.idx for m in ind.meas if selected(d, req, m, variant, ver)]
            s = cell_consistent(ind, cov, tot) if cov else 0
            if s < 0:
                bad.append(("total", "counts/value differ from the model"))
            elif cov:
                score += s
                cells.append(("total", cov, tot, None))
        cand = (-len(bad), score, variant == "new", cells, bad, variant, groups)
        if best is None or cand[:3] > best[:3]:
            best = cand
        if not bad:
            break                   # the current semantics fits: no need to try the old one
    return best[3], best[4], best[5], best[6]


# ----------------------------------------------------------------------------- collection

class Collection:
    def __init__(self, who, partner=None):
        self.who, self.partner = who, partner
        self.responses = []     # (path, kind, info, json, version)
        self.rejected = 0
        self.rejected_codes = {}
        self.requests = 0
        self.truncated = False

    def extend(self, other):
        self.responses += other.responses
        self.rejected += other.rejected
        for k, v in other.rejected_codes.items():
            self.rejected_codes[k] = self.rejected_codes.get(k, 0) + v
        self.requests += other.requests
        self.truncated = self.truncated or other.truncated


def report_jobs(ind, queries):
    return [("/v1/reports/indicators/%s?%s" % (ind.code, qs), "report", (ind, dict(urllib.parse.parse_qsl(qs))))
            for qs in queries]


def equity_jobs(ind, periods, levels=(None, 1, 2)):
    jobs = []
    for per in periods:
        for level in levels:
            p = {"indicator": ind.code, "period": per}
            if level is not None:
                p["level"] = level
            jobs.append(("/v1/reports/equity?" + urllib.parse.urlencode(p), "equity", (ind, p)))
    return jobs


def scorecard_job(d):
    return ("/v1/reports/scorecard?agenda=" + d.agenda, "scorecard", None)


def collect(api, key, jobs, ver, who="", partner=None, chunk=24, deadline=True):
    """jobs: [(path, kind, info)] read with `key`; answers are tagged with the version `ver`."""
    col = Collection(who, partner)
    for i in range(0, len(jobs), chunk):
        if deadline and time.time() > api.deadline:
            col.truncated = True
            break
        part = jobs[i:i + chunk]
        answers = api.many([("GET", path, key) for path, _, _ in part])
        for (path, kind, info), (st, js) in zip(part, answers):
            col.requests += 1
            if st >= 400 or not isinstance(js, dict):
                col.rejected += 1
                col.rejected_codes[st] = col.rejected_codes.get(st, 0) + 1
                continue
            col.responses.append((path, kind, info, js, ver))
    return col


# ----------------------------------------------------------------------------- metadata rules

VALUE_FIELDS = ("value", "mean", "median", "min", "max", "progress", "change", "per_1000", "gap")
SCORECARD_VALUES = ("value", "previous_value", "progress", "projected")


class Meta:
    """Violations of the metadata rules, per rule: count and a few examples."""

    def __init__(self):
        self.viol = {}
        self.answers = 0

    def flag(self, rule, example):
        c = self.viol.setdefault(rule, [0, []])
        c[0] += 1
        if len(c[1]) < 3:
            c[1].append(example)

    def check(self, d, who, partner, path, kind, info, js):
        self.answers += 1
        inds = {i.code: i for i in d.indicators}

        def short(row):
            keep = {k: row.get(k) for k in ("neighborhood", "period", "partner", "indicator", "value", "suppressed",
                                            "suppression_reason", "measurements", "partners", "min", "max", "median")
                    if k in row}
            return json.dumps(keep)[:300]

        def cell_rules(ind, row, label, partner_row):
            where = "%s GET %s %s" % (who, path, label)
            if row.get("suppression_reason") is not None:
                self.flag("no suppression_reason for non-coordinators", "%s: %s" % (where, short(row)))
            if any(is_num(row.get(k)) for k in ("min", "max", "median")):
                self.flag("min/max/median never shown to non-coordinators", "%s: %s" % (where, short(row)))
            if row.get("suppressed") is True and (row.get("measurements") is not None or row.get("partners") is not None):
                self.flag("a withheld cell shows no measurements/partners", "%s: %s" % (where, short(row)))
            if partner_row:
                if partner is None:
                    self.flag("a viewer gets no by=partner rows", "%s: %s" % (where, short(row)))
                elif row.get("partner") != partner:
                    self.flag("a partner gets no other partner's by=partner rows", "%s: %s" % (where, short(row)))
            # A partner's own by=partner row is its own data (read live, as /v1/measurements
            # gives it): the rule is about other partners' figures.
            own_row = partner_row and partner is not None and row.get("partner") == partner
            if ind is not None and ind.agg in ("max", "min") and not own_row:
                if row.get("suppressed") is not True or any(is_num(row.get(k)) for k in VALUE_FIELDS):
                    self.flag("max/min indicators show no value to non-coordinators", "%s: %s" % (where, short(row)))

        if kind == "report":
            ind, params = info
            by_partner = "partner" in params.get("by", "").split(",")
            for row in js.get("rows") or []:
                if isinstance(row, dict):
                    cell_rules(ind, row, "row", by_partner)
            if isinstance(js.get("total"), dict):
                cell_rules(ind, js["total"], "total", False)
        elif kind == "equity":
            ind, _ = info
            for row in js.get("neighborhoods") or js.get("rows") or []:
                if isinstance(row, dict):
                    cell_rules(ind, row, "row", False)
        elif kind == "scorecard":
            for line in js.get("indicators") or []:
                if not isinstance(line, dict):
                    continue
                ind = inds.get(line.get("indicator"))
                where = "%s GET %s %s" % (who, path, line.get("indicator"))
                if line.get("suppression_reason") is not None:
                    self.flag("no suppression_reason for non-coordinators", where)
                if ind is not None and ind.agg in ("max", "min"):
                    shown = {k: line.get(k) for k in SCORECARD_VALUES + ("trend",) if line.get(k) is not None}
                    if shown:
                        self.flag("max/min indicators show no value to non-coordinators",
                                  "%s: %s" % (where, json.dumps(shown)[:300]))

    def check_collection(self, d, col):
        for path, kind, info, js, ver in col.responses:
            self.check(d, col.who, col.partner, path, kind, info, js)


# ----------------------------------------------------------------------------- facts from answers

def build_facts(d, responses, facts=None):
    """Facts from (path, kind, info, json, version) answers, per LP indicator."""
    if facts is None:
        facts = {ind.code: Facts(ind) for ind in d.lp_indicators()}
    aggregates = 0
    for path, kind, info, js, ver in responses:
        if kind == "report":
            ind, params = info
            F = facts.get(ind.code)
            if F is None:
                continue
            req = Request(params)
            cells, bad, variant, groups = model_report(d, ind, req, js, ver)
            for label, why in bad:
                F.unmodelled.append(("GET %s %s" % (path, label), why))
            aggregates += len(cells)
            all_groups = None
            for label, cov, row, pk in cells:
                src = "GET %s %s" % (path, label) + (" (revision)" if ver == 2 else "")
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
                            all_groups = group(d, ind, req, variant, ver, ignore_months=True)
                        ctx["prev"].append(("previous period", all_groups.get(tuple(pp), [])))
                        earlier = sorted((k for k in groups
                                          if k[:i] + k[i + 1:] == pk[:i] + pk[i + 1:]
                                          and period_months(k[i]) and period_months(pk[i])
                                          and max(period_months(k[i])) < min(period_months(pk[i]))),
                                         key=lambda k: min(period_months(k[i])))
                        if earlier:
                            ctx["prev"].append(("previous row", groups[earlier[-1]]))
                F.cell(cov, row, src, pops, ctx, ver)
        elif kind == "equity":
            ind, p = info
            F = facts.get(ind.code)
            if F is None:
                continue
            params = {"by": "neighborhood", "period": p["period"]}
            if "level" in p:
                params["level"] = p["level"]
            req = Request(params)
            rows = js.get("neighborhoods") or js.get("rows") or []
            cells, bad, variant, groups = model_report(d, ind, req, {"rows": rows}, ver)
            for label, why in bad:
                F.unmodelled.append(("GET %s %s" % (path, label), why))
            aggregates += len(cells)
            # Counts compare rates per 1,000: their gaps are read against the target per 1,000.
            rates = {"target_per_1000": js.get("target_per_1000")} if js.get("compared") == "rate_per_1000" else None
            for label, cov, row, pk in cells:
                F.cell(cov, row, "GET %s %s" % (path, label) + (" (revision)" if ver == 2 else ""),
                       [d.pop.get(pk[0]), row.get("population")], rates, ver=ver)
            # rank order: consecutive ranks, validated against the truth as a block. Withheld
            # rows come after the visible ones in code order, so only visible ranks say anything.
            ranked = sorted(((row.get("rank"), cov, label) for label, cov, row, pk in cells
                             if is_num(row.get("rank")) and not row.get("suppressed")), key=lambda t: t[0])
            if len(ranked) >= 2 and ind.value_coef(ranked[0][1]) is not None:
                tv = [ind.true_value(cov) for _, cov, _ in ranked]
                for sign in (1.0, -1.0):    # values ascending (largest gap first) or descending
                    if all(sign * (tv[i + 1] - tv[i]) >= -1e-9 for i in range(len(tv) - 1)):
                        for i in range(len(ranked) - 1):
                            lo, hi = (0.0, np.inf) if sign > 0 else (-np.inf, 0.0)
                            F.diff_fact(ranked[i + 1][1], ranked[i][1], lo, hi, "GET %s rank %s<=%s" % (
                                path, ranked[i][2], ranked[i + 1][2]))
                        break
        elif kind == "scorecard":
            for line in js.get("indicators") or []:
                F = facts.get(line.get("indicator"))
                if F is None:
                    continue
                ind = F.ind
                src = "GET %s %s" % (path, ind.code) + (" (revision)" if ver == 2 else "")

                def cov_of(per):
                    pm = period_months(per) if per else None
                    if not pm:
                        return None
                    return [m.idx for m in ind.meas if m.month in pm and ver in m.vers]
                cur = cov_of(line.get("period"))
                prev = cov_of(line.get("previous_period"))
                if cur:
                    aggregates += 1
                    row = {"value": line.get("value"), "suppressed": line.get("suppressed")}
                    if is_num(line.get("progress")):
                        row["progress"] = line["progress"]
                    tv = ind.true_value(cur)
                    if is_num(line.get("value")) and (tv is None or abs(line["value"] - tv) > 1e-6 * max(1, abs(tv))):
                        F.unmodelled.append((src, "value differs from the model"))
                    else:
                        F.cell(cur, row, src + " period=%s" % line.get("period"), ver=ver)
                if prev:
                    aggregates += 1
                    pv = line.get("previous_value")
                    tv = ind.true_value(prev)
                    if is_num(pv) and (tv is None or abs(pv - tv) > 1e-6 * max(1, abs(tv))):
                        F.unmodelled.append((src, "previous_value differs from the model"))
                    else:
                        F.cell(prev, {"value": pv, "suppressed": pv is None},
                               src + " previous=%s" % line.get("previous_period"), ver=ver)
                tr = line.get("trend")
                if cur and prev and tr in ("up", "down", "flat"):
                    lo, hi = {"up": (0.0, np.inf), "down": (-np.inf, 0.0), "flat": (0.0, 0.0)}[tr]
                    F.diff_fact(cur, prev, lo, hi, src + " trend=" + tr)
    return facts, aggregates


# ----------------------------------------------------------------------------- LP

class Attack:
    """Bounds of linear targets over the reader's feasible set: the facts, 0 <= u <= the
    declared maximum, known u fixed. LPs are solved in the unknowns' own (sparse) space.

    Most targets are protected, and showing that needs two feasible points per target (one
    at least its margin below the true value, one above), not an optimum: `settle` finds them
    with a few batched LPs (maximise sum_t min(1, side_t * (c_t.u - v_t) / need_t) over many
    targets at once); only targets no batch settles get their own LPs (exact bounds)."""

    def __init__(self, F, known=()):
        from scipy.sparse import csr_matrix
        self.F = F
        n = len(F.truth)
        self.n = n
        self.xt = xt = F.truth
        lb = np.zeros(n)
        ub = np.array(F.ub, dtype=float)
        eq_r, eq_c, eq_v, self.eq_src = [], [], [], []
        iq_r, iq_c, iq_v, iq_b, self.iq_src = [], [], [], [], []
        self.lo_src, self.hi_src = {}, {}
        for key, (lo, hi, los, his) in F.rows.items():
            if len(key) == 1 and key[0][1] == 1.0:
                j = key[0][0]
                if lo > lb[j]:
                    lb[j] = lo
                    self.lo_src[j] = los[0]
                if hi < ub[j]:
                    ub[j] = hi
                    self.hi_src[j] = his[0]
                continue
            if hi - lo <= 1e-9:
                i = len(self.eq_src)
                for j, c in key:
                    eq_r.append(i); eq_c.append(j); eq_v.append(c)
                self.eq_src.append(los[0])
                continue
            for sign, bound, src in ((1.0, hi, his[0]), (-1.0, lo, los[0])):
                if np.isfinite(bound):
                    i = len(self.iq_src)
                    for j, c in key:
                        iq_r.append(i); iq_c.append(j); iq_v.append(sign * c)
                    iq_b.append(sign * bound)
                    self.iq_src.append(src)
        for j in known:
            lb[j] = ub[j] = xt[j]
            self.lo_src[j] = self.hi_src[j] = "the attacker's own value"
        self.lb, self.ub = np.minimum(lb, xt), np.maximum(ub, xt)     # the truth is feasible
        self.E = csr_matrix((eq_v, (eq_r, eq_c)), shape=(len(self.eq_src), n))
        self.be = self.E @ xt
        self.A = csr_matrix((iq_v, (iq_r, iq_c)), shape=(len(self.iq_src), n))
        self.bu = np.maximum(np.array(iq_b, dtype=float), self.A @ xt) if len(iq_b) else np.zeros(0)
        self.bnds = np.column_stack([self.lb, np.where(np.isfinite(self.ub), self.ub, np.inf)])
        self.pool = []          # feasible points met so far (witnesses)
        self.lps = 0
        self.failed = 0

    def _lp(self, c, A_ub=None, b_ub=None, A_eq=None, b_eq=None, bounds=None):
        self.lps += 1
        return linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")

    def bound(self, c, side):
        """max (side=+1) or min (side=-1) of c.u, exactly (inf when unbounded)."""
        r = self._lp(-side * c, A_ub=self.A if self.A.shape[0] else None, b_ub=self.bu if self.A.shape[0] else None,
                     A_eq=self.E if self.E.shape[0] else None, b_eq=self.be if self.E.shape[0] else None,
                     bounds=self.bnds)
        if r.status == 3:
            return side * np.inf
        if r.status != 0:
            self.failed += 1
            return side * np.inf                      # unknown: treated as unbounded (no false leak)
        if len(self.pool) < 2000:
            self.pool.append(r.x)
        return float(c @ r.x)

    def settle(self, C, v, need, side, deadline, batch=400):
        """Items i: is there a feasible u with side_i * (C_i.u - v_i) >= need_i? Batched LPs
        find witnesses; returns a boolean array of settled items (unsettled: not decided)."""
        from scipy.sparse import csr_matrix, hstack, vstack, diags
        m = C.shape[0]
        done = need <= 1e-9
        if self.pool:
            X = np.column_stack(self.pool)
            vals = (C @ X) - v[:, None]
            done |= np.any(side[:, None] * vals >= need[:, None] - 1e-7, axis=1)
        stall = 0
        while not done.all() and time.time() < deadline and stall < 2:
            todo = np.nonzero(~done)[0]
            before = done.sum()
            for sgn in (1.0, -1.0):
                idx = todo[side[todo] == sgn][:batch]
                if len(idx) == 0 or time.time() > deadline:
                    continue
                K = len(idx)
                Ci = C[idx]
                # variables [u (n), y (K)]: y_k <= sgn * (C_k.u - v_k) / need_k, y_k <= 1; max sum y
                rows = hstack([-sgn * Ci, diags(need[idx])], format="csr")
                A = vstack([hstack([self.A, csr_matrix((self.A.shape[0], K))]), rows], format="csr")
                b = np.concatenate([self.bu, -sgn * v[idx]])
                Aeq = hstack([self.E, csr_matrix((self.E.shape[0], K))], format="csr") if self.E.shape[0] else None
                bnds = np.vstack([self.bnds, np.column_stack([np.full(K, -np.inf), np.ones(K)])])
                cost = np.concatenate([np.zeros(self.n), -np.ones(K)])
                r = self._lp(cost, A_ub=A, b_ub=b, A_eq=Aeq, b_eq=self.be if Aeq is not None else None, bounds=bnds)
                if r.status != 0:
                    continue
                x = r.x[:self.n]
                if len(self.pool) < 2000:
                    self.pool.append(x)
                vals = C @ x - v
                done |= side * vals >= need - 1e-7
            stall = stall + 1 if done.sum() == before else 0
        return done

    def explain(self, c, side):
        """The published facts that bind c.u at its max (side=+1) or min (side=-1)."""
        try:
            r = linprog(-side * c, A_ub=self.A if self.A.shape[0] else None, b_ub=self.bu if self.A.shape[0] else None,
                        A_eq=self.E if self.E.shape[0] else None, b_eq=self.be if self.E.shape[0] else None,
                        bounds=self.bnds, method="highs")
        except ValueError:
            return []
        if r.status != 0:
            return []
        used = []
        if self.E.shape[0] and r.eqlin is not None:
            for i in np.argsort(-np.abs(r.eqlin.marginals)):
                if abs(r.eqlin.marginals[i]) > 1e-7:
                    used.append((abs(r.eqlin.marginals[i]), self.eq_src[i]))
        if self.A.shape[0] and r.ineqlin is not None:
            for i in np.argsort(-np.abs(r.ineqlin.marginals)):
                if abs(r.ineqlin.marginals[i]) > 1e-7:
                    used.append((abs(r.ineqlin.marginals[i]), self.iq_src[i]))
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
        self.leaks = []         # (reader, indicator, desc, v, lo, hi, c, why)
        self.lines = []
        self.meta = None
        self.unchecked = 0
        self.truncated = False
        self.narrow = None      # (rel, v, lo, hi, reader, desc, exact)


def describe_meas(d, m):
    dims = ",".join("%s=%s" % kv for kv in sorted(m.dims.items()))
    tag = ""
    if m.vers == frozenset((1,)):
        tag = " before the revision"
    elif m.vers == frozenset((2,)):
        tag = " corrected in the revision" if m.prev is not None else " added in the revision"
    return "[%s @ %s %s%s%s]" % (m.partner, m.node, month_str(m.month), (" " + dims) if dims else "", tag)


def targets_for(d, ind, F, partner):
    """(description, coefficients) of everything `partner` (None: the outsider) must not
    narrow, and how many targets of each kind there are.

    A withheld cell's secret, for this reader, is the part of it the reader does not know (its
    hidden part: the cell less the reader's own measurements). Then:
      * the same cell (same coverage) shown with a value in the same release: the server
        contradicts itself; the cell stays a target (the LP pins it);
      * the hidden part shown in another visible cell (e.g. the cell in the other release,
        when only the reader's own values changed; or, for a partner, a cell that differs
        only by its own measurements): published, not a secret: skipped;
      * the hidden part shown in another release with other versions of the same
        measurements (a correction, an added row): what the cell still hides is the change
        between the two; that change is the target (it may be negative);
      * otherwise the hidden part's value is the target.
    The peers' individual figures (each version) are targets of their own for partners."""
    N = len(ind.meas)
    rates = F.has_rates()
    out, seen = [], set()
    counts = {"withheld": 0, "peer": 0, "change": 0, "published": 0}

    def add(kind, desc, coef):
        coef = {k: c for k, c in coef.items() if abs(c) > 1e-12}
        key = tuple(sorted(coef.items()))
        if not coef or key in seen:
            return
        seen.add(key)
        counts[kind] += 1
        out.append((desc, coef))

    def forms(part, sums=False):
        """The linear forms a hidden part is judged by: (label, coefficients). With sums, a
        mean is judged by the sum of its values (a change between releases is what the
        corrected and added values put in; as a change of a mean it would be diluted by the
        count, and its natural range could not be told from the values' bounds)."""
        n = 1 if sums else len(part)
        if ind.agg == "sum":
            return [("value", {j: 1.0 for j in part})]
        if ind.agg == "mean":
            return [("sum of the values" if sums else "mean", {j: 1.0 / n for j in part})]
        f = [("numerators", {j: 1.0 for j in part}), ("denominators", {N + j: 1.0 for j in part})]
        if rates:
            f.append(("sum of the rates" if sums else "mean rate", {2 * N + j: 1.0 / n for j in part}))
        return f

    if partner is not None:
        for m in ind.meas:
            if m.partner != partner:
                for label, coef in forms([m.idx]):
                    label = {"value": "x", "mean": "x", "numerators": "numerator", "denominators": "denominator",
                             "mean rate": "rate"}[label]
                    add("peer", "%s of peer %s" % (label, describe_meas(d, m)), coef)

    def hidden(cov):
        return frozenset(j for j in cov if ind.meas[j].partner != partner)

    def canon(part):
        return frozenset(ind.meas[j].natural_key() for j in part
                         if not (ind.meas[j].vers == frozenset((2,)) and ind.meas[j].prev is None))
    by_hidden, by_canon = {}, {}
    for cov, colls in F.visible.items():
        h = hidden(cov)
        by_hidden.setdefault(h, cov)
        by_canon.setdefault(canon(h), (h, cov))
    for cov, (src, colls) in sorted(F.withheld.items(), key=lambda t: t[1][0]):
        if len({ind.meas[j].month for j in cov}) != 1:
            continue
        part = hidden(cov)
        if not part:
            continue                    # the reader's own cell
        what = "withheld %s (%d measurements%s)" % (
            src, len(cov), ("; the %d that are not its own" % len(part)) if len(part) < len(cov) else "")
        if F.visible.get(cov, set()) & colls:
            pass                        # shown and withheld in one release: a target as it is
        elif part in by_hidden:
            counts["published"] += 1
            continue
        elif canon(part) in by_canon:
            other, vcov = by_canon[canon(part)]
            for (label, c1), (_, c2) in zip(forms(sorted(part), True), forms(sorted(other), True)):
                coef = dict(c1)
                for k, c in c2.items():
                    coef[k] = coef.get(k, 0.0) - c
                add("change", "change of the %s of %s, from the release where it was shown (%d measurements)" % (
                    label, what, len(vcov)), coef)
            continue
        for label, coef in forms(sorted(part)):
            add("withheld", "%s of %s" % (label, what), coef)
    return out, counts


def run_attacker(F, known, targets, deadline, verbose, explain_limit=4):
    """Bounds every target. Returns stats and leaks [desc, v, lo, hi, c, why]."""
    from scipy.sparse import csr_matrix, vstack
    att = Attack(F, known)
    T = len(targets)
    stats = {"equations": len(F.rows) - F.known_rows(), "published": F.published, "checked": 0,
             "unchecked": 0, "narrow": None, "lps": 0, "failed": 0}
    if T == 0:
        return stats, []
    r_, c_, w_ = [], [], []
    for t, (desc, coef) in enumerate(targets):
        for k, w in coef.items():
            r_.append(t); c_.append(k); w_.append(w)
    C = csr_matrix((w_, (r_, c_)), shape=(T, att.n))
    v = C @ att.xt
    # a target's natural range: what its coefficients allow over 0 <= u <= the declared maximum
    ub = np.asarray(F.ub, dtype=float)
    Cp, Cn = C.maximum(0), C.minimum(0)
    with np.errstate(invalid="ignore"):
        nat_hi = np.asarray(Cp @ np.where(np.isfinite(ub), ub, 1e300)).ravel()
        nat_lo = np.asarray(Cn @ np.where(np.isfinite(ub), ub, 1e300)).ravel()
    nat_hi = np.where(nat_hi > 1e250, np.inf, nat_hi)
    nat_lo = np.where(nat_lo < -1e250, -np.inf, nat_lo)
    m = np.maximum(MARGIN_REL * np.abs(v), MARGIN_ABS)
    need = np.concatenate([np.minimum(v + m, nat_hi) - v, v - np.maximum(v - m, nat_lo)])
    side = np.concatenate([np.ones(T), -np.ones(T)])
    C2, v2 = vstack([C, C], format="csr"), np.concatenate([v, v])
    done = att.settle(C2, v2, need, side, deadline)
    exact = np.full(2 * T, np.nan)          # exact bound of an item's side, when solved
    undecided = list(np.nonzero(~done)[0])
    while undecided:
        i = undecided.pop(0)
        if done[i]:
            continue
        if time.time() > deadline:
            undecided.append(i)
            break
        b = att.bound(C2[i].toarray().ravel(), side[i])
        exact[i] = b
        done[i] = True
        if att.pool and undecided:          # the new optimum may settle other items
            rest = np.array(undecided)
            x = att.pool[-1]
            ok = side[rest] * (C2[rest] @ x - v2[rest]) >= need[rest] - 1e-7
            done[rest[ok]] = True
            undecided = [k for k in undecided if not done[k]]
    unchecked_items = np.zeros(2 * T, dtype=bool)
    unchecked_items[[k for k in undecided if not done[k]]] = True
    X = np.column_stack(att.pool + [att.xt])
    vals = C @ X
    est_lo, est_hi = vals.min(axis=1), vals.max(axis=1)
    lo = np.where(np.isnan(exact[T:]), est_lo, exact[T:])
    hi = np.where(np.isnan(exact[:T]), est_hi, exact[:T])
    leaks, cands = [], []
    for t, (desc, coef) in enumerate(targets):
        if unchecked_items[t] or unchecked_items[T + t]:
            stats["unchecked"] += 1
            continue
        stats["checked"] += 1
        if protected(v[t], lo[t], hi[t], nat_lo[t], nat_hi[t]):
            cands.append(((hi[t] - lo[t]) / max(abs(v[t]), 1.0), t))
            continue
        c = C[t].toarray().ravel()
        if np.isnan(exact[t]) and time.time() < deadline:
            hi[t] = att.bound(c, 1)
        if np.isnan(exact[T + t]) and time.time() < deadline:
            lo[t] = att.bound(c, -1)
        leaks.append([desc, float(v[t]), float(lo[t]), float(hi[t]), c, float(nat_lo[t]), float(nat_hi[t])])
    # the narrowest protection interval, solved exactly for the few narrowest candidates
    cands.sort()
    for _, t in cands[:5]:
        ex = True
        l, h = lo[t], hi[t]
        if time.time() < deadline:
            c = C[t].toarray().ravel()
            h, l = att.bound(c, 1), att.bound(c, -1)
        else:
            ex = False
        rel = (h - l) / max(abs(v[t]), 1.0)
        if stats["narrow"] is None or rel < stats["narrow"][0]:
            stats["narrow"] = (rel, float(v[t]), float(l), float(h), targets[t][0], ex)
    leaks.sort(key=lambda lk: ("complementary" in lk[0], len(np.nonzero(lk[4])[0])))
    for i, leak in enumerate(leaks):
        desc, val, l, h, c, nlo, nhi = leak
        if i < explain_limit or verbose:
            why = []
            if not h >= min(val + margin(val), nhi) - 1e-6:
                why += att.explain(c, 1)
            if not l <= max(val - margin(val), nlo) + 1e-6:
                why += [w for w in att.explain(c, -1) if w not in why]
        else:
            why = None
        leaks[i] = [desc, val, l, h, c, why, nlo, nhi]
    stats["lps"], stats["failed"] = att.lps, att.failed
    return stats, leaks


def fmt_interval(lo, hi):
    f = lambda x: ("%g" % round(x, 3)) if np.isfinite(x) and abs(x) < 1e8 else ("inf" if x > 0 else "-inf")
    return "[%s, %s]" % (f(lo), f(hi))


def narrow_str(nw):
    if nw is None:
        return "none"
    rel, v, lo, hi, desc, exact = nw[:6]
    return "%s around true %g (margin %g; width %s%g = %.0f%% of the value) for %s" % (
        fmt_interval(lo, hi), round(v, 4), round(margin(v), 3), "" if exact else ">=",
        round(hi - lo, 3), 100 * rel, desc)


def audit_deployment(api, ckey, d, args, name, budget, t_start, deadline, revise_seed=None):
    """Creates the deployment, releases it, collects as the viewer and every partner, revises one
    month (when revise_seed is given), collects again, attacks as every reader."""
    res = Result(name)
    share = deadline - t_start
    d.create(api, ckey)
    months = [month_str(m) for m in d.months]
    rels = [d.release(api, ckey, m) for m in months]
    if any(r is None for r in rels) and not all(r is None for r in rels):
        raise RuntimeError("POST /v1/releases answered 404 for some months only")
    live = rels[0] is None
    vkey = api.must("POST", "/v1/keys", ckey, {"role": "viewer", "name": name + " viewer"})["secret"]
    pkeys = {p: api.must("POST", "/v1/keys", ckey, {"role": "partner", "partner": p,
                                                      "name": name + " " + p})["secret"]
             for p in d.partners}
    rng = random.Random(args.seed_for_queries.get(name, 0))
    jobs = []
    for ind in d.indicators:
        if ind.agg in ("max", "min"):
            qs = minmax_queries(d, ind)
        elif budget is None:
            qs = report_queries(d, ind, rng, None)
        elif ind.agg == "sum":
            qs = report_queries(d, ind, rng, budget if ind.dims else budget // 3)
        else:
            qs = report_queries(d, ind, rng, budget // 4)
        jobs += report_jobs(ind, qs)
    report_only = list(jobs)
    quarters = sorted({quarter_of(m) for m in months})
    for ind in d.indicators:
        if ind.agg in LP_AGGS:
            jobs += equity_jobs(ind, months + quarters)
        else:
            jobs += equity_jobs(ind, months[:1], (None,))
    jobs.append(scorecard_job(d))
    n_meas = {ind.code: sum(1 for m in ind.meas if 1 in m.vers) for ind in d.indicators}
    res.lines.append("%s: %d partners, %d neighborhoods, months %s..%s, measurements: %s" % (
        name, len(d.partners), len(d.parent), months[0], months[-1],
        ", ".join("%s (%s) %d" % (i.short, i.agg, n_meas[i.code]) for i in d.indicators)))
    if live:
        res.lines.append("  releases: POST /v1/releases -> 404: no releases, reports read live")
    else:
        res.lines.append("  releases: " + ", ".join("%s r%s (%s)" % (
            r.get("period"), r.get("revision"),
            "; ".join("%s %s/%s withheld" % (str(x.get("indicator", "")).rsplit("-", 1)[-1], x.get("withheld"), x.get("cells"))
                      for x in r.get("indicators") or [] if isinstance(x, dict)) or "?")
            for r in rels))

    # --- first releases
    t0 = time.time()
    api.deadline = t_start + 0.40 * share
    vcol = collect(api, vkey, jobs, 1, "viewer")
    vmap = {path: js for path, _, _, js, _ in vcol.responses}
    own_jobs = [j for ind in d.indicators for j in report_jobs(ind, own_queries(d, ind))]
    owns = {p: collect(api, k, own_jobs, 1, "partner " + p, p, deadline=False) for p, k in pkeys.items()}
    answered = [j for j in report_only if j[0] in vmap and "partner" not in j[2][1].get("by", "").split(",")]
    samples, differs = {}, {}
    for p, k in pkeys.items():
        sc = collect(api, k, rng.sample(answered, min(6, len(answered))), 1, "partner " + p, p, deadline=False)
        samples[p] = sc
        differs[p] = [r for r in sc.responses if vmap.get(r[0]) != r[3]]

    # --- the revision
    moved, vcol2, owns2, rev_line = [], None, {}, None
    if revise_seed is not None:
        month, changes, added = plan_revision(d, random.Random(revise_seed))
        rows = [ind.row(m2) for ind, m, m2 in changes] + ([added[0].row(added[1])] if added else [])
        Deployment.post_rows(api, ckey, rows)
        touching = [j for j in report_only if j[0] in vmap and touches(j[0].split("?", 1)[1], month)]
        interim = rng.sample(touching, min(16, len(touching))) + [scorecard_job(d)]
        icol = collect(api, vkey, interim, 2, "viewer (before the new release)", deadline=False)
        moved = [r for r in icol.responses if r[0] in vmap and vmap[r[0]] != r[3]]
        r2 = d.release(api, ckey, month_str(month))
        api.deadline = t_start + 0.60 * share
        b2 = [j for j in jobs if j[1] == "report" and touches(j[0].split("?", 1)[1], month)]
        b2 = b2[:max(60, len(b2) // 2)] if budget is not None else b2
        jobs2 = b2 + [j for ind in d.indicators if ind.agg in LP_AGGS
                      for j in equity_jobs(ind, [month_str(month), quarter_of(month_str(month))])] + [scorecard_job(d)]
        vcol2 = collect(api, vkey, jobs2, 2, "viewer")
        own2 = [j for j in own_jobs if touches(j[0].split("?", 1)[1], month)]
        owns2 = {p: collect(api, k, own2, 2, "partner " + p, p, deadline=False) for p, k in pkeys.items()}
        desc = ["%s %s %s -> %s" % (ind.short, describe_meas(d, m),
                                    "%s/%s" % (m.num, m.den) if ind.agg == "ratio" else m.value,
                                    "%s/%s" % (m2.num, m2.den) if ind.agg == "ratio" else m2.value)
                for ind, m, m2 in changes]
        if added:
            a = added[1]
            desc.append("added %s %s = %s" % (added[0].short, describe_meas(d, a),
                                              "%s/%s" % (a.num, a.den) if added[0].agg == "ratio" else a.value))
        rev_line = "  revision of %s: %s; %s" % (
            month_str(month), "; ".join(desc),
            "no release (404): read live" if r2 is None else "released again as revision %s" % r2.get("revision"))
        res.lines.append(rev_line)
    t_collect = time.time() - t0

    # --- metadata rules
    meta = Meta()
    meta.check_collection(d, vcol)
    for p in d.partners:
        meta.check_collection(d, owns[p])
        meta.check_collection(d, samples[p])
        if p in owns2:
            meta.check_collection(d, owns2[p])
    if vcol2 is not None:
        meta.check_collection(d, vcol2)
    if not live:
        for path, kind, info, js, ver in moved:
            meta.flag("writes after a release change nothing non-coordinators see until the next release",
                      "viewer GET %s answered differently after the coordinator's corrections, before the new release"
                      % path)
    res.meta = meta

    # --- facts
    vresp = vcol.responses + moved + (vcol2.responses if vcol2 else [])
    vfacts, vaggs = build_facts(d, vresp)
    req_total = vcol.requests + (vcol2.requests if vcol2 else 0)
    rejected = dict(vcol.rejected_codes)
    if vcol2:
        for k, v in vcol2.rejected_codes.items():
            rejected[k] = rejected.get(k, 0) + v
    own_req = sum(c.requests for c in owns.values()) + sum(c.requests for c in owns2.values())
    res.lines.append("  collected in %.1fs: viewer %d requests (%d after the revision; rejected %s), %d aggregates; "
                     "partners' own rows %d requests; %d partner samples, %d differ from the viewer's; "
                     "%d interim reads moved before the new release" % (
                         t_collect, req_total, vcol2.requests if vcol2 else 0, rejected or "none", vaggs, own_req,
                         sum(c.requests for c in samples.values()), sum(len(x) for x in differs.values()), len(moved)))
    vis = sum(len(F.visible) for F in vfacts.values())
    wh = sum(len(F.withheld) for F in vfacts.values())
    single = sum(1 for F in vfacts.values() for cov in F.withheld
                 if len({F.ind.meas[j].month for j in cov}) == 1)
    res.lines.append("  cells read by non-coordinators (distinct coverages): %d visible, %d withheld (%d of one period)" % (
        vis, wh, single))

    # --- one adversary per reader
    readers = [(None, "outsider (viewer)")] + [(p, "partner " + p) for p in d.partners]
    res.lines.append("  adversaries: %d (the outsider and every partner: %s)" % (
        len(readers), ", ".join(p for p in d.partners)))
    lp_inds = d.lp_indicators()
    for ri, (p, label) in enumerate(readers):
        now = time.time()
        r_deadline = now + max(0.0, deadline - now) / (len(readers) - ri)
        if p is None:
            facts = vfacts
        else:
            extra = owns[p].responses + differs[p] + (owns2[p].responses if p in owns2 else [])
            facts, _ = build_facts(d, extra, copy.deepcopy(vfacts))
        parts, checked, unchecked, nw_best, counts = [], 0, 0, None, {"withheld": 0, "peer": 0, "change": 0, "published": 0}
        known_n = lps = failed_lps = 0
        t_reader = time.time()
        for k, ind in enumerate(lp_inds):
            F = facts[ind.code]
            known = [] if p is None else [v for m in ind.meas if m.partner == p for v in ind.variables(m.idx)]
            known_n += sum(1 for m in ind.meas if m.partner == p)
            targets, cnt = targets_for(d, ind, F, p)
            for kk in cnt:
                counts[kk] += cnt[kk]
            i_deadline = time.time() + max(0.0, r_deadline - time.time()) / (len(lp_inds) - k)
            st, leaks = run_attacker(F, known, targets, i_deadline, args.verbose)
            parts.append("%s %d" % (ind.short, st["equations"]))
            checked += st["checked"]
            lps += st["lps"]
            failed_lps += st["failed"]
            unchecked += st["unchecked"]
            if st["narrow"] is not None and (nw_best is None or st["narrow"][0] < nw_best[0]):
                nw_best = st["narrow"]
            for lk in leaks:
                res.leaks.append((label, ind.code) + tuple(lk))
        res.unchecked += unchecked
        res.lines.append("    %s%s: equations %s; %d targets checked (%d withheld values, %d changes of cells shown in "
                         "the other release%s%s)%s, %d LPs in %.1fs%s; narrowest: %s" % (
            label, "" if p is None else " (knows its %d values)" % known_n, ", ".join(parts), checked,
            counts["withheld"], counts["change"], "" if p is None else ", %d peer figures" % counts["peer"],
            "; %d withheld cells whose hidden part is shown elsewhere skipped" % counts["published"]
            if counts["published"] else "",
            (" (%d NOT checked: time)" % unchecked) if unchecked else "",
            lps, time.time() - t_reader, (" (%d solver failures, taken as unbounded)" % failed_lps) if failed_lps else "",
            narrow_str(nw_best)))
        if nw_best is not None and (res.narrow is None or nw_best[0] < res.narrow[0]):
            res.narrow = nw_best + (label,)
    if res.narrow is not None:
        rel, v, lo, hi, desc, exact, who = res.narrow
        res.lines.append("  narrowest interval: true %g, interval %s, margin %g (%s: %s)" % (
            round(v, 4), fmt_interval(lo, hi), round(margin(v), 3), who, desc))
    unmod = []
    for F in vfacts.values():
        unmod += F.unmodelled
    if unmod:
        res.lines.append("  %d published facts did not fit the model and were ignored%s" % (
            len(unmod), "" if args.verbose else " (--verbose lists them)"))
        if args.verbose:
            for s, why in unmod[:200]:
                res.lines.append("    unmodelled: %s: %s" % (s, why))
    if meta.viol:
        for rule, (count, ex) in sorted(meta.viol.items()):
            res.lines.append("  METADATA RULE BROKEN: %s: %d times, e.g." % (rule, count))
            for e in ex[:2]:
                res.lines.append("      %s" % e)
    else:
        res.lines.append("  metadata rules: ok over %d answers" % meta.answers)
    res.truncated = vcol.truncated or (vcol2 is not None and vcol2.truncated)
    return res


def print_leaks(res, verbose, per_group=4):
    groups = {}
    for lk in res.leaks:
        groups.setdefault((lk[0], lk[1]), []).append(lk)
    for (who, code), leaks in groups.items():
        comp = sum(1 for lk in leaks if "complementary" in lk[2])
        print("  %d leaks for the %s on %s%s:" % (
            len(leaks), who, code, (" (%d of them cells withheld only as complements)" % comp) if comp else ""))
        for i, (who, code, desc, v, lo, hi, c, why, nlo, nhi) in enumerate(leaks):
            if i >= per_group and not verbose:
                print("    ... and %d more (--verbose lists all)" % (len(leaks) - i))
                break
            print("    LEAK %s: true %g, attacker interval %s (protection needs <= %g and >= %g)" % (
                desc, round(v, 4), fmt_interval(lo, hi), round(max(nlo, v - margin(v)), 4),
                round(min(nhi, v + margin(v)), 4)))
            for s in why or []:
                print("        from: %s" % s)


# ----------------------------------------------------------------------------- fixed cases

def fixed_cases(api, ckey, run, args, t_start, deadline):
    """The three known subtraction attacks. Returns list of (name, ok, message) and the Result."""
    d = fixed_deployment(run)
    P = d.prefix
    ind = d.indicators[0]
    out = []
    res = audit_deployment(api, ckey, d, args, "fixed", None, t_start, deadline)
    vkey = api.must("POST", "/v1/keys", ckey, {"role": "viewer", "name": "fixed literal"})["secret"]

    def get(qs):
        st, js = api.call("GET", "/v1/reports/indicators/%s?%s" % (ind.code, qs), vkey)
        return qs, (js if st < 400 and isinstance(js, dict) else None)

    def cell(resp, nb=None, per=None):
        qs, js = resp
        if js is None:
            return None
        if nb is None and per is None:
            row = js.get("total") or {}
        else:
            row = {}
            for r in js.get("rows") or []:
                if (nb is None or r.get("neighborhood") == nb) and (per is None or str(r.get("period")) == per):
                    row = r
                    break
        v = row.get("value")
        return v if is_num(v) and row.get("suppressed") is not True else None

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
    pd_idx = {m.idx for m in ind.meas if m.partner == P + "pd" and month_str(m.month) == "2025-05"}
    pd_leaks = [lk for lk in res.leaks if set(np.nonzero(lk[6])[0]) == pd_idx]
    msg = "%d leaks over all collected aggregates and all %d readers" % (len(res.leaks), len(d.partners) + 1)
    if pd_leaks:
        msg += "; pd's 7 narrowed to %s (by the %s)" % (fmt_interval(pd_leaks[0][4], pd_leaks[0][5]), pd_leaks[0][0])
    out.append(("fixed-lp every combination, every reader", not res.leaks, msg))
    meta = res.meta.viol if res.meta else {}
    out.append(("fixed-meta metadata rules", not meta,
                "ok" if not meta else "; ".join("%s (%d)" % (r, c[0]) for r, c in sorted(meta.items()))))
    return out, res


def metrics_check(api, ckey, run):
    """GET /metrics is refused without the coordinator key (no key, viewer, partner)."""
    pid = "m-%s-p" % run
    api.must("POST", "/v1/partners", ckey, {"id": pid, "name": pid, "kind": "nonprofit", "level": "collaborating"})
    vkey = api.must("POST", "/v1/keys", ckey, {"role": "viewer", "name": "metrics check"})["secret"]
    pkey = api.must("POST", "/v1/keys", ckey, {"role": "partner", "partner": pid, "name": "metrics check"})["secret"]
    got = {}
    for who, key in (("no key", None), ("viewer key", vkey), ("partner key", pkey), ("coordinator key", ckey)):
        st, _ = api.call("GET", "/metrics", key, accept="text/plain, */*")
        got[who] = st
    bad = [w for w in ("no key", "viewer key", "partner key") if got[w] not in (401, 403)]
    shown = ", ".join("%s -> %s" % kv for kv in got.items())
    if bad:
        return False, "GET /metrics answered without the coordinator key: %s" % shown
    return True, shown


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--coordinator-key", required=True)
    ap.add_argument("--seeds", default="1,2,3", help="comma list, ranges allowed: 1-12")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--budget", type=int, default=240,
                    help="first-release report requests for the dimensioned sum indicator (a third for the "
                         "other sum, a quarter for mean and ratio; about half of it again after the revision)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds for the whole run")
    ap.add_argument("--run-id", default=None, help="id fragment that keeps repeated runs apart")
    ap.add_argument("--no-fixed", action="store_true", help="skip the fixed subtraction cases")
    ap.add_argument("--workers", type=int, default=3, help="concurrent requests while collecting")
    args = ap.parse_args()
    seeds = []
    for part in args.seeds.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-")
            seeds += list(range(int(a), int(b) + 1))
        elif part:
            seeds.append(int(part))
    run = args.run_id or os.urandom(2).hex()
    started = time.time()
    end = started + args.time_limit
    api = Api(args.url, end, args.workers)
    args.seed_for_queries = {"s%d" % s: s for s in seeds}
    passed = failed = 0
    st, js = api.call("GET", "/v1/agendas?limit=1", args.coordinator_key)
    if st != 200:
        print("coordinator key refused (%s): %s" % (st, js))
        print("privacy: 0 passed, 1 failed")
        return 1
    try:
        ok, msg = metrics_check(api, args.coordinator_key, run)
    except Exception as e:
        ok, msg = False, "ERROR %s" % e
    print("metrics: %s %s" % ("PASS" if ok else "FAIL", msg))
    passed += ok
    failed += not ok
    slots = len(seeds) + (0 if args.no_fixed else 0.5)
    for i, s in enumerate(seeds):
        t = time.time()
        share = (end - t) / max(0.5, slots - i)
        # a seed's LPs may run past its share (up to twice) while the seeds after it keep
        # at least half of theirs: no seed is skipped, and a slow one borrows from the slack
        later = (slots - i - 1) * 0.5 * share
        deadline = max(t + share, min(end - later, t + 2 * share))
        d = random_deployment(s, run)
        try:
            res = audit_deployment(api, args.coordinator_key, d, args, "s%d" % s, args.budget, t, deadline,
                                   revise_seed=1000 + s)
        except Exception as e:   # an API failure is a failed check, with the reason
            print("seed %d: ERROR %s" % (s, e))
            failed += 1
            continue
        for line in res.lines:
            print(line)
        print_leaks(res, args.verbose)
        ok = not res.leaks and not res.meta.viol
        bits = []
        if res.leaks:
            readers = sorted({lk[0] for lk in res.leaks})
            bits.append("%d leaks (readers: %s)" % (len(res.leaks), ", ".join(readers)))
        if res.meta.viol:
            bits.append("%d metadata rules broken" % len(res.meta.viol))
        msg = "; ".join(bits) if bits else "ok"
        if res.unchecked or res.truncated:
            msg += " (INCOMPLETE: %s%d targets not checked in time; raise --time-limit)" % (
                "collection cut short, " if res.truncated else "", res.unchecked)
        print("seed %d: %s (%.1fs)" % (s, "PASS " + msg if ok else "FAIL " + msg, time.time() - t))
        passed += ok
        failed += not ok
    if not args.no_fixed:
        t = time.time()
        try:
            cases, res = fixed_cases(api, args.coordinator_key, run, args, t, max(end, t + 5))
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
