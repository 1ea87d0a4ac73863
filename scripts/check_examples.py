#!/usr/bin/env python3
"""Sends every operation of openapi.yaml, with its examples, to a live server on an empty
database, and fails unless each is accepted (2xx): request bodies (every media type's
example: JSON and the CSV upload), path and required query parameters. Also checks that
every operation has an operationId and a summary, every request body an example, and
that info.version is BackboneVersion.current.

    python3 scripts/check_examples.py http://127.0.0.1:8080 "$COORDINATOR_KEY"

The operations run in the order below, so that each example finds what it names (the
agenda before its indicator, the key before it is revoked, deletions last); an operation
the contract gains must be added here. A redirect (the dashboard's 303s) is followed, and
the page it leads to must be a 2xx; the dashboard sign-in example posts this check's key.
The operations in AS_PARTNER are sent with the partner key the createKey example issues. Uses only the standard library and PyYAML.
"""
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

ORDER = """
getHealth getReadiness getContract getMetrics
createAgenda createIndicator createNeighborhood createPartner createCommitment createKey createRule createAction
createWebhook pingWebhook
saveStory createContribution
submitMeasurements createLock evaluateRule listFlags getFlag updateFlag
listKeys getKey listAgendas getAgenda listIndicators getIndicator getAgendaTemplate getIndicatorTemplate
listRules getRule getRuleHistory listActions getAction getActionHistory
listWebhooks getWebhook listWebhookDeliveries redeliverWebhookDelivery
getStory listStories listStoryVersions restoreStoryVersion listContributions getContribution updateContribution
listPartners getPartner
listNeighborhoods getNeighborhood listCommitments getCommitment listMeasurements getMeasurement
getMeasurementHistory listLocks createRelease listReleases
getBoardPacket createPublication listPublications getPublication
getDashboardSignIn signInToDashboard getDashboard getDashboardFlag getDashboardBoardPacket getDashboardUpload getDashboardUploadTemplate checkDashboardUpload storeDashboardUpload
getTrendChart getNeighborhoodChart signOutOfDashboard
updateAgenda updateIndicator updatePartner updateNeighborhood updateCommitment updateRule updateAction
getIndicatorReport getScorecard getCompleteness getEquity
deleteWebhook retractMeasurement deleteLock deleteCommitment withdrawContribution revokeKey deactivateRule
deactivateIndicator deactivatePartner deactivateNeighborhood deactivateAgenda
""".split()

# Operations sent with the partner key the createKey example issues (a partner speaks for itself).
AS_PARTNER = {"createContribution"}

# What the examples need that no example creates: the parent the neighborhood example names.
SETUP = [("POST", "/v1/neighborhoods", {"code": "city", "name": "City", "population": 310000})]


def main(base, key):
    contract = yaml.safe_load(open("openapi.yaml", encoding="utf-8"))
    version = re.search(r'current = "([^"]+)"', open("Sources/BackboneCore/Support/BackboneVersion.swift").read())
    problems = []
    if contract["info"]["version"] != version.group(1):
        problems.append(f"info.version {contract['info']['version']} is not BackboneVersion.current {version.group(1)}")

    operations = {}
    for path, item in contract["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            name = operation.get("operationId")
            if not name or not operation.get("summary"):
                problems.append(f"{method.upper()} {path} lacks an operationId or a summary")
                continue
            parameters = [resolve(contract, p) for p in item.get("parameters", []) + operation.get("parameters", [])]
            operations[name] = (method.upper(), path, parameters, operation.get("requestBody"))
    if set(operations) != set(ORDER):
        problems.append(f"check_examples.py's ORDER differs from the contract: missing {sorted(set(operations) - set(ORDER))}, "
                        f"gone {sorted(set(ORDER) - set(operations))}")

    def send(method, path, body=None, media_type="application/json", key=key):
        if media_type == "application/x-www-form-urlencoded" and isinstance(body, dict):
            body = urllib.parse.urlencode(body)
        if media_type == "multipart/form-data" and isinstance(body, dict):
            # The `file` field as a browser sends a chosen file; the others as plain fields.
            boundary = "check-examples-boundary"
            parts = []
            for name, value in body.items():
                disposition = f'form-data; name="{name}"' + ('; filename="upload.csv"\r\nContent-Type: text/csv' if name == "file" else "")
                parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n{value}\r\n")
            body = "".join(parts) + f"--{boundary}--\r\n"
            media_type = f"multipart/form-data; boundary={boundary}"
        data = None if body is None else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        request = urllib.request.Request(base + path, method=method, data=data,
                                         headers={"Authorization": f"Bearer {key}", "Content-Type": media_type})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    for method, path, body in SETUP:
        status, text = send(method, path, body)
        if not 200 <= status < 300:
            problems.append(f"setup {method} {path}: {status} {text}")

    created = {}  # server-assigned ids an example cannot know: the key's
    checked = 0
    for name in [n for n in ORDER if n in operations]:
        method, path, parameters, request_body = operations[name]
        if name == "redeliverWebhookDelivery":
            # The ping's delivery exists once the server's delivery worker has fanned it out (a moment).
            for _ in range(100):
                status, text = send("GET", "/v1/webhooks/1/deliveries")
                if status == 200 and json.loads(text)["items"]:
                    break
                time.sleep(0.1)
        query = {}
        for parameter in parameters:
            example = parameter.get("example", created.get((name, parameter["name"])))
            if parameter["in"] == "path":
                if example is None and path.startswith("/v1/keys/"):
                    example = created.get("key")
                if example is None:
                    problems.append(f"{name}: path parameter {parameter['name']} has no example")
                    break
                path = path.replace("{" + parameter["name"] + "}", urllib.parse.quote(str(example), safe=""))
            elif parameter["in"] == "query" and (parameter.get("required") or "example" in parameter):
                if example is None:
                    problems.append(f"{name}: required parameter {parameter['name']} has no example")
                query[parameter["name"]] = example
        else:
            url = path + ("?" + urllib.parse.urlencode(query) if query else "")
            bodies = [(None, None)]
            if request_body:
                bodies = []
                for media_type, content in request_body["content"].items():
                    examples = [content["example"]] if "example" in content else \
                        [e["value"] for e in content.get("examples", {}).values()]
                    if not examples:
                        problems.append(f"{name}: the {media_type} request body has no example")
                    bodies += [(media_type, example) for example in examples]
            for media_type, example in bodies:
                if name == "signInToDashboard":
                    example = {**example, "key": key}  # the example's key is made up; sign in with ours
                status, text = send(method, url, example, media_type or "application/json",
                                    key=created.get("partner secret", "") if name in AS_PARTNER else key)
                checked += 1
                label = f"{name} ({method} {url}{', ' + media_type if media_type else ''})"
                if not 200 <= status < 300:
                    problems.append(f"{label}: {status} {text[:500]}")
                elif name == "createKey":
                    created["key"] = json.loads(text)["id"]
                    created["partner secret"] = json.loads(text)["secret"]
    for problem in problems:
        print(f"examples: {problem}")
    print(f"examples: {checked} requests from {len(operations)} operations' examples, {len(problems)} problems")
    return 1 if problems else 0


def resolve(contract, node):
    while "$ref" in node:
        target = contract
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: check_examples.py URL COORDINATOR_KEY")
    sys.exit(main(sys.argv[1], sys.argv[2]))
