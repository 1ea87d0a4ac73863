#!/usr/bin/env python3
"""Runs the README's curl walkthrough, unedited, against a live server.

Usage: walkthrough.py README.md PORT BACKBONE_BINARY   (DATABASE_URL names the server's database)

Every ```sh block from "## Trying it with curl" up to "## Layout" runs, in order, in one
bash script (`set -e`), in an empty folder holding the `october.csv` the README uploads.
The README's commands run exactly as written: `curl` is a shell function that sends
`localhost:8080` to the test server's port and records each call's status and body, and
`backbone` is the binary under test. The walkthrough fails when a command fails, when a
call answers 4xx or 5xx, or when a response differs from the JSON the README shows next
to it (`# {...}`, members written `...` are not compared).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

readme_path, port, binary = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(readme_path, encoding="utf-8").read()
start = text.index("## Trying it with curl")
end = text.index("## Layout", start)
blocks = re.findall(r"```sh\n(.*?)```", text[start:end], flags=re.S)
if not blocks:
    sys.exit("walkthrough: no ```sh blocks under '## Trying it with curl'")
script = "\n".join(blocks)

# The JSON each call is documented to answer: a `# {` comment on the call's line or the
# line after the call's last line; the call is the last `curl` before the comment.
expected = {}
for match in re.finditer(r"#\s*(\{.*)$", script, flags=re.M):
    calls_before = len(re.findall(r"(?<![\w-])curl ", script[: match.start()]))
    try:
        document, _ = json.JSONDecoder().raw_decode(match.group(1))
    except json.JSONDecodeError:
        continue  # an illustration such as {"items": [...]}
    expected[calls_before] = document

work = tempfile.mkdtemp(prefix="backbone-readme-")
with open(os.path.join(work, "october.csv"), "w", encoding="utf-8") as csv:
    csv.write("\ufeffindicator,neighborhood,period,value,dim.age_group,note\r\n")
    csv.write('esl_learners_enrolled,northside,2026-10,17,16-24,"evening class, new"\r\n')
os.makedirs(os.path.join(work, "bin"))
os.symlink(os.path.abspath(binary), os.path.join(work, "bin", "backbone"))
open(os.path.join(work, "count"), "w").write("0")

prelude = r'''
set -euo pipefail
export PATH="$WALK/bin:$PATH"
curl() {
  local args=() arg
  for arg in "$@"; do args+=("${arg//localhost:8080/127.0.0.1:$BACKBONE_PORT}"); done
  local n=$(( $(cat "$WALK/count") + 1 ))
  echo "$n" > "$WALK/count"
  printf '%s\n' "$*" > "$WALK/command.$n"
  command curl "${args[@]}" -o "$WALK/body.$n" -w '%{http_code}' > "$WALK/status.$n"
  cat "$WALK/body.$n"
}
'''
environment = dict(os.environ, WALK=work, BACKBONE_PORT=port)
run = subprocess.run(["bash", "-c", prelude + script], cwd=work, env=environment, capture_output=True, text=True)
calls = int(open(os.path.join(work, "count")).read())
failures = []
if run.returncode != 0:
    failures.append(f"the walkthrough stopped with status {run.returncode}: {run.stderr.strip()[-2000:]}")
for n in range(1, calls + 1):
    command = open(os.path.join(work, f"command.{n}")).read().strip()
    status = int(open(os.path.join(work, f"status.{n}")).read() or 0)
    body = open(os.path.join(work, f"body.{n}"), encoding="utf-8", errors="replace").read()
    if not 200 <= status < 300:
        failures.append(f"call {n} answered {status}: curl {command}\n    {body[:500]}")
    if n in expected:
        try:
            actual = json.loads(body)
        except json.JSONDecodeError:
            failures.append(f"call {n} is documented as JSON but answered: {body[:200]}")
            continue
        for name, value in expected[n].items():
            if value == "..." or value is Ellipsis:
                continue
            if name not in actual:
                failures.append(f"call {n} (curl {command}) has no '{name}', which the README shows")
            elif actual[name] != value:
                failures.append(f"call {n} (curl {command}): README shows {name} = {value!r}, the server answers {actual[name]!r}")
print(f"README walkthrough: {calls} calls, {len(expected)} documented answers checked, {len(failures)} problems")
for failure in failures:
    print("  -", failure)
sys.exit(1 if failures else 0)
