#!/usr/bin/env python3
"""Loads a small, realistic collective-impact deployment into a running Backbone.

    python3 scripts/demo_data.py http://127.0.0.1:8080 "$KEY"

One agenda, four indicators (a count with an age-group dimension, a percentage, a stock
and a score), a city with two districts and five neighborhoods, four partners, their
commitments and a year of monthly measurements, released. East Gate is served by one
partner only, so partner and viewer keys see it (and a complementary neighbour) suppressed. Uses only
the standard library.
"""
import json
import sys
import urllib.error
import urllib.request


def main(base, key):
    def send(method, path, body=None):
        request = urllib.request.Request(
            base + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request) as response:
                return response.status
        except urllib.error.HTTPError as error:
            if error.code != 409:  # already there from an earlier run
                raise SystemExit(f"{method} {path}: {error.code} {error.read().decode()}")
            return error.code

    send("POST", "/v1/agendas", {"id": "adult-literacy", "name": "Every adult reads",
                                 "vision": "Every adult in the city reads English well enough to get a job.",
                                 "starts_on": "2025-01-01", "ends_on": "2030-12-31"})
    indicators = [
        {"code": "esl_learners_enrolled", "name": "Adults enrolled in ESL classes", "unit": "learners",
         "value_type": "count", "aggregation": "sum", "period_type": "month",
         "baseline": {"period": "2025-01", "value": 300}, "target": {"period": "2027-12", "value": 900},
         "dimensions": [{"name": "age_group", "values": ["16-24", "25-44", "45+"]}]},
        {"code": "ged_pass_rate", "name": "GED pass rate", "unit": "%", "value_type": "percent",
         "aggregation": "ratio", "period_type": "quarter",
         "baseline": {"period": "2025-Q1", "value": 55}, "target": {"period": "2027-Q4", "value": 80}},
        {"code": "active_tutors", "name": "Active volunteer tutors", "value_type": "count",
         "aggregation": "last", "period_type": "month"},
        {"code": "reading_score", "name": "Average reading score", "value_type": "score",
         "aggregation": "mean", "period_type": "quarter", "min": 0, "max": 100},
    ]
    for indicator in indicators:
        send("POST", "/v1/indicators", {"agenda": "adult-literacy", **indicator})
    neighborhoods = [("city", "City", None, 310000), ("north", "North district", "city", 150000),
                     ("south", "South district", "city", 160000), ("northside", "Northside", "north", 48200),
                     ("riverside", "Riverside", "north", 101800), ("southside", "Southside", "south", 90000),
                     ("hillcrest", "Hillcrest", "south", 58000),
                     ("eastgate", "East Gate", "south", 12000)]
    for code, name, parent, population in neighborhoods:
        send("POST", "/v1/neighborhoods", {"code": code, "name": name, "parent": parent, "population": population})
    partners = [("central-library", "Central Library", "library"), ("city-schools", "City Schools", "school"),
                ("literacy-now", "Literacy Now", "nonprofit"), ("grace-church", "Grace Church", "faith")]
    for id, name, kind in partners:
        send("POST", "/v1/partners", {"id": id, "name": name, "kind": kind, "level": "collaborating"})
        for indicator in ("esl_learners_enrolled", "ged_pass_rate"):
            send("POST", "/v1/commitments", {"partner": id, "indicator": indicator})
    rows = []
    leaves = ["northside", "riverside", "southside", "hillcrest"]
    for p, (partner, _, _) in enumerate(partners):
        for n, neighborhood in enumerate(leaves):
            for month in range(1, 13):
                for g, group in enumerate(["16-24", "25-44", "45+"]):
                    rows.append({"partner": partner, "indicator": "esl_learners_enrolled", "neighborhood": neighborhood,
                                 "period": f"2025-{month:02d}", "value": 5 + (p * 7 + n * 3 + month + g * 5) % 40,
                                 "dimensions": {"age_group": group}})
                rows.append({"partner": partner, "indicator": "active_tutors", "neighborhood": neighborhood,
                             "period": f"2025-{month:02d}", "value": 3 + (p + n + month // 3) % 6})
            for quarter in range(1, 5):
                denominator = 20 + (p * 5 + n * 2 + quarter) % 15
                rows.append({"partner": partner, "indicator": "ged_pass_rate", "neighborhood": neighborhood,
                             "period": f"2025-Q{quarter}", "numerator": denominator * (50 + quarter * 5 + p) // 100,
                             "denominator": denominator})
                rows.append({"partner": partner, "indicator": "reading_score", "neighborhood": neighborhood,
                             "period": f"2025-Q{quarter}", "value": 55 + (p * 3 + n * 5 + quarter * 2) % 30})
    # East Gate: only Grace Church works there.
    for month in range(1, 13):
        for g, group in enumerate(["16-24", "25-44", "45+"]):
            rows.append({"partner": "grace-church", "indicator": "esl_learners_enrolled", "neighborhood": "eastgate",
                         "period": f"2025-{month:02d}", "value": 4 + (month + g) % 6, "dimensions": {"age_group": group}})
    send("POST", "/v1/measurements", {"measurements": rows})
    # The year is complete: released, partners and viewers read it (a second run revises it).
    send("POST", "/v1/releases", {"agenda": "adult-literacy", "period": "2025"})
    print(f"loaded {len(indicators)} indicators, {len(neighborhoods)} neighborhoods, {len(partners)} partners, "
          f"{len(rows)} measurements; 2025 released")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1].rstrip("/"), sys.argv[2])
