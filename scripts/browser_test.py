#!/usr/bin/env python3
"""The dashboard as a person sees it: headless Chromium against a live Backbone with the
demo data loaded (scripts/demo_data.py).

    python3 scripts/browser_test.py http://127.0.0.1:8080 "$COORDINATOR_KEY" [ARTIFACT_DIR]

Drives Chromium through the DevTools protocol (websocket-client): signs in by typing the
key into the form and pressing the button, reads what is on the page through the DOM
(titles, axis labels, one bar per neighborhood, the target line, suppressed bars for a
viewer, the print stylesheet), checks that a viewer has no completeness grid and that
revoking a key ends its session; then, as a partner, the upload page: downloads the
template, uploads a file with an error and an outlier (1000 after twelve months near 100),
reads the dry run's table (the error and the outlier on their cells, the outlier's expected
range and history), fixes
the file, stores it with a double click and finds one stored batch; last, the board packet:
a story per indicator, a quoted contribution and an overdue action, the printable page
printed to PDF at A4 and US Letter (pages = 1 + indicators; each indicator's name and story
in the PDF's text, read with poppler's pdftotext). Saves PNG screenshots (and the printed
PDFs) under ARTIFACT_DIR (default ci-artifacts/). Exits non-zero when a check fails.
"""
import base64
import csv
import datetime
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # websocket-client

AGENDA_TITLE = "Every adult reads"
LEAVES_WITH_ESL = {"northside", "riverside", "southside", "hillcrest", "eastgate"}


class Browser:
    """One headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self):
        binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not binary:
            raise SystemExit("chromium is not installed (apt-get install chromium)")
        self.profile = tempfile.mkdtemp(prefix="backbone-chromium-")
        self.process = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
             "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={self.profile}",
             "--window-size=1400,1000", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        for _ in range(300):
            if os.path.exists(port_file) and open(port_file).read().strip():
                break
            time.sleep(0.1)
        else:
            self.close()
            raise SystemExit("chromium did not start its DevTools endpoint")
        port = open(port_file).read().split()[0]
        for _ in range(50):
            try:
                targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5))
                page = next(t for t in targets if t.get("type") == "page")
                break
            except Exception:
                time.sleep(0.1)
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events = []
        self.document_status = None
        self.call("Page.enable")
        self.call("Network.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=1400, height=1000, deviceScaleFactor=1, mobile=False)

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = self.receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def receive(self):
        message = json.loads(self.socket.recv())
        if message.get("method") == "Network.responseReceived" and message["params"].get("type") == "Document":
            self.document_status = message["params"]["response"]["status"]
        return message

    def wait_for(self, event, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for index, message in enumerate(self.events):
                if message.get("method") == event:
                    del self.events[: index + 1]
                    return message.get("params", {})
            self.socket.settimeout(max(0.1, deadline - time.time()))
            self.events.append(self.receive())
        raise TimeoutError(event)

    def navigate(self, url):
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}…: {result['exceptionDetails']}")
        return result["result"].get("value")

    def submit(self, click_selector):
        """Clicks a form's button, as a person would, and waits for the page it leads to."""
        self.events.clear()
        self.evaluate(f"document.querySelector({json.dumps(click_selector)}).click()")
        self.wait_for("Page.loadEventFired")

    def sign_in(self, base, key):
        self.navigate(base + "/dashboard/sign-in")
        self.evaluate("document.getElementById('key').focus()")
        self.call("Input.insertText", text=key)
        self.submit("form[action='/dashboard/sign-in'] input[type=submit]")

    def sign_out(self):
        self.submit("form.sign-out button")

    def wait_until(self, expression, timeout=30):
        """Waits until `expression` is true on the page (a load event can come from the page before)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.evaluate(expression):
                    return True
            except RuntimeError:
                pass  # the page is being replaced
            time.sleep(0.1)
        return False

    def allow_downloads(self, directory):
        self.call("Page.setDownloadBehavior", behavior="allow", downloadPath=directory)

    def wait_for_file(self, path, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(path) and os.path.getsize(path) > 0:
                return True
            time.sleep(0.1)
        return False

    def choose_file(self, selector, path):
        """Puts a file in a form's file input, as choosing it in the dialog would."""
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        self.call("DOM.setFileInputFiles", files=[path], nodeId=node)

    def screenshot(self, path, full_page=True):
        params = {"format": "png"}
        if full_page:
            metrics = self.call("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16000), "scale": 1})
        data = self.call("Page.captureScreenshot", **params)["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))

    def close(self):
        try:
            self.socket.close()
        except Exception:
            pass
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


# What a person sees, read from the DOM in one go.
PAGE_FACTS = """(() => {
  const text = e => (e ? e.textContent.trim() : null);
  const sections = [...document.querySelectorAll('section.indicator')].map(s => {
    const charts = [...s.querySelectorAll('svg.chart')];
    const trend = s.querySelector('svg[id^=trend-]');
    const bars = s.querySelector('svg[id^=neighborhoods-]');
    return {
      code: s.dataset.indicator,
      heading: text(s.querySelector('h2')),
      charts: charts.map(c => ({
        id: c.id, title: text(c.querySelector('title')), desc: text(c.querySelector('desc')),
        xLabel: text(c.querySelector('.axis-label.x')), yLabel: text(c.querySelector('.axis-label.y')),
        rendered: c.getBoundingClientRect().width > 300,
      })),
      trendTarget: !!(trend && trend.querySelector('.target-line line')),
      trendRuns: trend ? trend.querySelectorAll('path.run').length : 0,
      coarsened: text(bars && bars.querySelector('.coarsened')),
      bars: bars ? [...bars.querySelectorAll('g.bar')].map(b => ({
        neighborhood: b.dataset.neighborhood, suppressed: b.classList.contains('suppressed'),
        label: text(b.querySelector('text')) || text(b.querySelector('title')),
        width: b.querySelector('rect').getBoundingClientRect().width,
      })) : [],
      barTarget: !!(bars && bars.querySelector('.target-line line')),
      tables: s.querySelectorAll('table.numbers').length,
    };
  });
  return {
    path: location.pathname, title: document.title, h1: text(document.querySelector('h1')),
    scorecardRows: document.querySelectorAll('section.scorecard tbody tr').length,
    completeness: !!document.getElementById('completeness'),
    completenessRows: document.querySelectorAll('#completeness tbody tr').length,
    completenessStates: [...document.querySelectorAll('#completeness td')].map(td => td.className),
    bodyFontPx: parseFloat(getComputedStyle(document.body).fontSize),
    scripts: document.scripts.length,
    sections,
  };
})()"""


# The upload page's dry run, read from the DOM: the counts, each row's problems by cell.
UPLOAD_FACTS = """(() => {
  const count = key => { const c = document.querySelector(`[data-count="${key}"]`); return c ? Number(c.textContent.replace(/,/g, '')) : null; };
  const rows = [...document.querySelectorAll('table.review tbody tr')].map(tr => ({
    row: Number(tr.dataset.row),
    cells: Object.fromEntries([...tr.querySelectorAll(':scope > td[data-field]')].map(td => [td.dataset.field, {
      text: td.childNodes.length && td.childNodes[0].nodeType === 3 ? td.childNodes[0].textContent : '',
      cls: td.className,
      issues: [...td.querySelectorAll('.issue')].map(i => ({
        code: i.dataset.code, kind: i.classList.contains('error') ? 'error' : 'warning', text: i.textContent.trim(),
        low: i.querySelector('[data-bound=low]') ? i.querySelector('[data-bound=low]').textContent : null,
        high: i.querySelector('[data-bound=high]') ? i.querySelector('[data-bound=high]').textContent : null,
        history: [...i.querySelectorAll('table.history tr')].map(r => [r.querySelector('th').textContent, r.querySelector('td').textContent]),
      })),
    }])),
  }));
  return {
    path: location.pathname, h1: document.querySelector('h1') && document.querySelector('h1').textContent,
    status: (document.querySelector('#summary [role=status]') || {}).textContent || null,
    alert: (document.querySelector('[role=alert]') || {}).textContent || null,
    counts: {received: count('received'), created: count('created'), updated: count('updated'),
             unchanged: count('unchanged'), rejected: count('rejected'), errors: count('errors'), warnings: count('warnings')},
    store: !!document.querySelector('form.store button#store'),
    batch: (document.querySelector('code.batch') || {}).textContent || null,
    scripts: document.scripts.length,
    rows,
  };
})()"""


def months_before(month, count):
    """The `count` months before `month` (a date on the 1st), oldest first, as YYYY-MM."""
    result = []
    for _ in range(count):
        month = (month - datetime.timedelta(days=1)).replace(day=1)
        result.append(month.strftime("%Y-%m"))
    return list(reversed(result))


def upload_as_partner(browser, base, api, check, artifacts):
    """A partner's upload, from the template to one stored batch."""
    partner_key = api("POST", "/v1/keys", {"role": "partner", "partner": "central-library", "name": "browser test upload"})
    # A series history: twelve months near 100 for one cell the demo data leaves empty.
    this_month = datetime.date.today().replace(day=1)
    *history_months, month = months_before(this_month, 13)
    history = [98, 101, 100, 103, 99, 102, 97, 100, 101, 99, 102, 100]
    cell = {"partner": "central-library", "indicator": "esl_learners_enrolled", "neighborhood": "eastgate"}
    api("POST", "/v1/measurements", {"measurements": [
        {**cell, "period": period, "value": value, "dimensions": {"age_group": "25-44"}}
        for period, value in zip(history_months, history)]})

    browser.sign_in(base, partner_key["secret"])
    check(browser.evaluate("!!document.querySelector('a[href=\"/dashboard/upload\"]')"), "the partner's dashboard links to the upload page")
    browser.navigate(base + "/dashboard/upload")
    check(browser.evaluate("location.pathname") == "/dashboard/upload", "the partner opens the upload page")
    check(browser.evaluate("document.scripts.length") == 0, "the upload page runs no script")
    browser.screenshot(os.path.join(artifacts, "upload-form.png"))

    # The template, downloaded with the session cookie by clicking its link.
    downloads = tempfile.mkdtemp(prefix="backbone-downloads-")
    browser.allow_downloads(downloads)
    browser.evaluate("document.querySelector('a.template').click()")
    template_path = os.path.join(downloads, "adult-literacy-template.csv")
    check(browser.wait_for_file(template_path), "clicking the template link downloads adult-literacy-template.csv")
    with open(template_path, encoding="utf-8") as file:
        template = list(csv.reader(file))
    header = template[0] if template else []
    check(header[:5] == ["partner", "indicator", "neighborhood", "period", "value"] and "dim.age_group" in header,
          f"the template is CSV with the upload's header ({header})")
    check(all(row[0] == "central-library" for row in template[1:]), "its partner column is the partner's own")

    def write(rows, name):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in header})
        path = os.path.join(downloads, name)
        with open(path, "w", encoding="utf-8", newline="") as file:
            file.write(out.getvalue())
        return path

    base_row = {"partner": "central-library", "indicator": "esl_learners_enrolled", "neighborhood": "eastgate", "period": month}
    faulty = [{**base_row, "value": "12x", "dim.age_group": "16-24"},
              {**base_row, "value": "1000", "dim.age_group": "25-44"}]
    browser.choose_file("#file", write(faulty, "march.csv"))
    browser.submit("#check")
    facts = browser.evaluate(UPLOAD_FACTS)
    check(facts["path"] == "/dashboard/upload" and browser.document_status == 200, f"the dry run is a page ({browser.document_status})")
    check(facts["scripts"] == 0, "the dry run page runs no script")
    check(facts["counts"]["received"] == 2 and facts["counts"]["errors"] == 1,
          f"the summary counts the rows and the error ({facts['counts']})")
    check("Nothing is stored yet" in (facts["status"] or ""), "the dry run says nothing is stored yet")
    rows = {row["row"]: row for row in facts["rows"]}
    error_cell = rows.get(1, {}).get("cells", {}).get("value", {})
    check("cell-error" in error_cell.get("cls", "") and error_cell.get("text") == "12x"
          and any(i["code"] == "not-numeric" and "12x" in i["text"] for i in error_cell.get("issues", [])),
          f"the error sits on row 1's value cell, with its message ({error_cell})")
    check(not facts["store"], "with an error and mode all there is no store button yet")
    outlier_cell = rows.get(2, {}).get("cells", {}).get("value", {})
    outliers = [i for i in outlier_cell.get("issues", []) if i["code"] == "outlier"]
    check(len(outliers) == 1, f"the outlier (1000 after twelve months near 100) is flagged on row 2's value cell ({outlier_cell})")
    for outlier in outliers:
        check(float(outlier["low"].replace(",", "")) <= 100 <= float(outlier["high"].replace(",", "")) < 1000,
              f"with the range its history expected ({outlier['low']}–{outlier['high']})")
        check([period for period, _ in outlier["history"]] == history_months[-6:]
              and [float(value) for _, value in outlier["history"]] == history[-6:],
              f"and the series' latest six values ({outlier['history']})")
    browser.screenshot(os.path.join(artifacts, "upload-dry-run-errors.png"))

    # Fixed in the spreadsheet and checked again: the store button appears.
    fixed = [{**faulty[0], "value": "12"}, faulty[1]]
    browser.choose_file("#file", write(fixed, "march-fixed.csv"))
    browser.submit("#check")
    facts = browser.evaluate(UPLOAD_FACTS)
    check(facts["counts"]["errors"] == 0 and facts["counts"]["created"] == 2, f"the fixed file would create 2 rows ({facts['counts']})")
    check(facts["store"], "and offers the store button")
    dry_run_html = browser.evaluate("document.documentElement.outerHTML")
    browser.screenshot(os.path.join(artifacts, "upload-dry-run-fixed.png"))

    # A double click on the button: stored once.
    browser.events.clear()
    browser.evaluate("(() => { const b = document.querySelector('#store'); b.click(); b.click(); })()")
    browser.wait_for("Page.loadEventFired")
    browser.wait_until("!!document.querySelector('code.batch')")
    stored = browser.evaluate(UPLOAD_FACTS)
    check(stored["path"] == "/dashboard/upload/store" and stored["batch"], f"storing shows the import summary ({stored['path']}, batch {stored['batch']})")
    check(stored["counts"]["created"] == 2 and stored["counts"]["rejected"] == 0, f"two rows created ({stored['counts']})")
    check(stored["counts"]["warnings"] == 1 and browser.evaluate("!!document.querySelector('.warnings li[data-code=outlier]')"),
          "and the stored outlier listed as a warning")
    browser.screenshot(os.path.join(artifacts, "upload-stored.png"))
    # Back on the dry run page, the button pressed once more: the same summary, nothing more stored.
    frame = browser.call("Page.getFrameTree")["frameTree"]["frame"]["id"]
    browser.call("Page.setDocumentContent", frameId=frame, html=dry_run_html)
    browser.wait_until("!!document.querySelector('#store')")
    browser.submit("#store")
    browser.wait_until("!!document.querySelector('code.batch')")
    again = browser.evaluate(UPLOAD_FACTS)
    check(again["batch"] == stored["batch"] and again["counts"] == stored["counts"],
          f"pressing store again shows the same import summary ({again['batch']})")
    items = api("GET", f"/v1/measurements?partner=central-library&neighborhood=eastgate&period={month}")["items"]
    check(len(items) == 2 and len({item["batch_id"] for item in items}) == 1 and items[0]["batch_id"] == stored["batch"],
          f"exactly one batch of two rows is stored ({[(item['batch_id'], item['value']) for item in items]})")
    shutil.rmtree(downloads, ignore_errors=True)
    browser.sign_out()
    return partner_key["secret"]


QUALITY_FACTS = """(() => {
  const panel = document.querySelector('section#quality');
  const rows = panel ? [...panel.querySelectorAll('table.quality-flags tbody tr[data-flag]')] : [];
  return {panel: !!panel, link: !!document.querySelector('nav a[href="#quality"]'),
          flags: rows.map(r => ({id: r.dataset.flag, cells: [...r.cells].map(c => c.innerText.trim()),
                                 href: r.querySelector('a') && r.querySelector('a').getAttribute('href')}))};
})()"""


def quality_panel(browser, base, partner_key, coordinator_key, check, artifacts):
    """The flag the partner's upload opened: on its own dashboard and the coordinator's, each
    linked to its page (the value, the series before it, the value's changes, the trail)."""
    for who, key in [("partner", partner_key), ("coordinator", coordinator_key)]:
        browser.sign_in(base, key)
        browser.navigate(f"{base}/dashboard?agenda=adult-literacy")
        facts = browser.evaluate(QUALITY_FACTS)
        check(facts["panel"] and facts["link"], f"the {who}'s dashboard has the data-quality panel and links to it")
        outliers = [f for f in facts["flags"] if "eastgate" in f["cells"] and "1000 is far" in " ".join(f["cells"])]
        check(len(outliers) == 1, f"the {who} sees the uploaded outlier's flag ({facts['flags']})")
        if outliers:
            browser.navigate(base + outliers[0]["href"])
            page = browser.evaluate("""(() => ({path: location.pathname,
              series: [...document.querySelectorAll('table.series tbody tr')].length,
              changes: [...document.querySelectorAll('table.changes tbody tr td:first-child')].map(c => c.innerText),
              trail: [...document.querySelectorAll('table.trail tbody tr td:first-child')].map(c => c.innerText)}))()""")
            check(page["path"].startswith("/dashboard/flags/") and page["series"] >= 7 and page["changes"] == ["created"]
                  and page["trail"] == ["open"], f"the flag's page shows the series, the value's history and the trail ({page})")
            browser.screenshot(os.path.join(artifacts, f"flag-{who}.png"))
        browser.sign_out()


def board_packet(browser, base, api, partner_api, check, artifacts):
    """The printed board packet: a story per indicator, a partner's quoted words and an
    overdue action, then the packet printed to PDF at A4 and US Letter: a cover and a page
    per indicator, each indicator's name and story in the PDF's text."""
    period = "2025-Q4"
    packet = api("GET", f"/v1/reports/board-packet?agenda=adult-literacy&period={period}")
    pages = packet["indicators"]
    for page in pages:
        api("PUT", f"/v1/stories/{page['indicator']}/{page['reporting_period']}", {
            "story_behind_the_curve": f"Why {page['name']} moved: storymark-{page['indicator'].replace('_', '-')}.\n\n"
                                      "Enrolment follows the bus routes; two branches changed their hours.",
            "what_works": "Evening classes at the library, childcare on site.",
            "action_plan": "Open a second evening class in Riverside."})
    first = pages[0]
    contribution = partner_api("POST", "/v1/contributions", {
        "indicator": first["indicator"], "period": first["reporting_period"],
        "text": "Our volunteers saw waiting lists double after the bus route changed."})
    api("PATCH", f"/v1/contributions/{contribution['id']}", {"quoted": True})
    api("POST", "/v1/actions", {"indicator": first["indicator"], "title": "Recruit ten evening tutors",
                                "owner": "central-library", "due": "2025-11-30", "status": "in_progress"})

    browser.navigate(f"{base}/dashboard/board-packet?agenda=adult-literacy&period={period}")
    facts = browser.evaluate("""(() => ({
        covers: document.querySelectorAll('section.cover').length,
        pages: [...document.querySelectorAll('section.indicator-page')].map(p => ({
            code: p.dataset.indicator, charts: p.querySelectorAll('svg.chart').length,
            story: (p.querySelector('section.story') || {}).innerText || ''})),
        scripts: document.scripts.length,
    }))()""")
    check(facts["covers"] == 1 and len(facts["pages"]) == len(pages),
          f"the packet page has a cover and a page per indicator ({len(facts['pages'])} of {len(pages)})")
    check(all(p["charts"] == 2 for p in facts["pages"]), "each indicator page draws its trend and equity charts")
    check(all("storymark-" in p["story"] for p in facts["pages"]), "each page shows its story behind the curve")
    check(facts["scripts"] == 0, "the packet runs no script")
    browser.screenshot(os.path.join(artifacts, "board-packet.png"))
    for paper, (width, height) in {"a4": (8.27, 11.69), "letter": (8.5, 11.0)}.items():
        pdf = browser.call("Page.printToPDF", printBackground=True, paperWidth=width, paperHeight=height,
                           marginTop=0, marginBottom=0, marginLeft=0, marginRight=0)["data"]
        path = os.path.join(artifacts, f"board-packet-{paper}.pdf")
        with open(path, "wb") as file:
            file.write(base64.b64decode(pdf))
        info = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
        count = int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))
        check(count == 1 + len(pages), f"{paper}: the PDF has a cover and a page per indicator ({count} pages)")
        text = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True).stdout
        flat = " ".join(text.split())
        for page in pages:
            mark = "storymark-" + page["indicator"].replace("_", "-")
            check(page["name"] in flat and mark in flat, f"{paper}: the PDF's text has {page['name']!r} and its story")
        check("waiting lists double" in flat and "Central Library" in flat, f"{paper}: the quoted partner, named")
        check("overdue" in flat, f"{paper}: the overdue action is marked")
        print(f"  ({paper}: {count} pages, {os.path.getsize(path):,} bytes)")


def main(base, coordinator_key, artifacts):
    os.makedirs(artifacts, exist_ok=True)
    failures = []

    def check(condition, what):
        print(("  ok   " if condition else "  FAIL ") + what)
        if not condition:
            failures.append(what)

    def api_as(secret):
        def send(method, path, body=None):
            request = urllib.request.Request(
                base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
            with urllib.request.urlopen(request) as response:
                return json.load(response)
        return send

    api = api_as(coordinator_key)

    browser = Browser()
    try:
        print("coordinator")
        started = time.time()
        browser.sign_in(base, coordinator_key)
        load_seconds = time.time() - started
        facts = browser.evaluate(PAGE_FACTS)
        check(facts["path"] == "/dashboard", f"signing in through the form lands on /dashboard ({facts['path']})")
        check(facts["h1"] == AGENDA_TITLE and AGENDA_TITLE in facts["title"], f"the agenda is the page's title ({facts['h1']!r})")
        check(facts["scripts"] == 0, "the page runs no script")
        check(facts["bodyFontPx"] >= 16, f"text is at least 16px for a projector ({facts['bodyFontPx']}px)")
        check(facts["scorecardRows"] == 4, f"the scorecard has a row per indicator ({facts['scorecardRows']})")
        check(len(facts["sections"]) == 4, f"one block per indicator ({len(facts['sections'])})")
        for section in facts["sections"]:
            check(len(section["charts"]) == 2 and all(c["rendered"] for c in section["charts"]),
                  f"{section['code']}: a trend chart and a neighborhood chart, drawn")
            check(all(c["title"] and c["desc"] and c["xLabel"] and c["yLabel"] for c in section["charts"]),
                  f"{section['code']}: every chart has a title, a text alternative and both axis labels")
            check(section["tables"] == 2, f"{section['code']}: the numbers in a table beside each chart")
        esl = next(s for s in facts["sections"] if s["code"] == "esl_learners_enrolled")
        check(esl["trendTarget"], "esl_learners_enrolled: the trend chart draws the target line")
        check(esl["barTarget"], "esl_learners_enrolled: the neighborhood chart draws the universal target")
        names = [bar["neighborhood"] for bar in esl["bars"]]
        check(sorted(names) == sorted(LEAVES_WITH_ESL), f"one bar per neighborhood ({names})")
        check(not any(bar["suppressed"] for bar in esl["bars"]), "the coordinator sees no suppressed bar")
        check(all(bar["width"] > 0 for bar in esl["bars"]), "every bar has a length")
        check(facts["completeness"] and facts["completenessRows"] == 4,
              f"the coordinator sees the completeness grid, a row per partner ({facts['completenessRows']})")
        check(any("state-late" in c for c in facts["completenessStates"]) and any("state-reported" in c for c in facts["completenessStates"]),
              "the grid tells reported from late")
        browser.screenshot(os.path.join(artifacts, "dashboard-coordinator.png"))
        browser.screenshot(os.path.join(artifacts, "dashboard-coordinator-first-screen.png"), full_page=False)
        browser.evaluate("document.getElementById('completeness').scrollIntoView()")
        browser.screenshot(os.path.join(artifacts, "dashboard-completeness.png"), full_page=False)
        print(f"  (sign-in and first page load in the browser: {load_seconds:.2f} s)")

        # Print: no navigation, one indicator per block.
        browser.call("Emulation.setEmulatedMedia", media="print")
        printed = browser.evaluate("""(() => ({
            nav: getComputedStyle(document.querySelector('nav')).display,
            breakBefore: getComputedStyle(document.querySelector('section.indicator')).breakBefore,
        }))()""")
        browser.call("Emulation.setEmulatedMedia", media="")
        check(printed["nav"] == "none", "printing hides the navigation")
        check(printed["breakBefore"] == "page", f"printing starts each indicator on its own page ({printed['breakBefore']})")
        pdf = browser.call("Page.printToPDF", printBackground=True)["data"]
        with open(os.path.join(artifacts, "dashboard-print.pdf"), "wb") as file:
            file.write(base64.b64decode(pdf))

        # A chart at its own URL, for slides.
        browser.navigate(base + "/dashboard/charts/esl_learners_enrolled/neighborhoods.svg")
        chart = browser.evaluate("({root: document.documentElement.tagName, bars: document.querySelectorAll('g.bar').length})")
        check(chart["root"] == "svg" and chart["bars"] == len(LEAVES_WITH_ESL), f"the neighborhood chart is its own SVG ({chart})")
        browser.screenshot(os.path.join(artifacts, "chart-neighborhoods.png"), full_page=False)
        browser.navigate(base + "/dashboard")
        browser.sign_out()
        check(browser.evaluate("location.pathname") == "/dashboard/sign-in", "signing out returns to the form")
        browser.navigate(base + "/dashboard")
        check(browser.evaluate("location.pathname") == "/dashboard/sign-in", "after signing out the dashboard asks to sign in")

        print("viewer")
        viewer = api("POST", "/v1/keys", {"role": "viewer", "name": "browser test funder"})
        browser.sign_in(base, viewer["secret"])
        facts = browser.evaluate(PAGE_FACTS)
        check(facts["path"] == "/dashboard", "the viewer signs in through the form")
        check(not facts["completeness"], "a viewer has no completeness grid")
        check(browser.evaluate("!!document.querySelector('a[href=\"#completeness\"]')") is False, "nor a link to one")
        esl = next(s for s in facts["sections"] if s["code"] == "esl_learners_enrolled")
        suppressed = [bar for bar in esl["bars"] if bar["suppressed"]]
        # East Gate has one partner; hatching it and its complements would hatch three of five
        # bars, so the viewer's chart is drawn by district, and says so.
        check(sorted(bar["neighborhood"] for bar in esl["bars"]) == ["north", "south"],
              f"the viewer's neighborhood chart rolls up to the districts ({[b['neighborhood'] for b in esl['bars']]})")
        check("Shown at level 1" in (esl["coarsened"] or ""), f"and says so on the chart ({esl['coarsened']})")
        check(all(bar["width"] > 0 for bar in esl["bars"] if not bar["suppressed"]), "every shown district has a bar")
        check(all("suppressed" in (bar["label"] or "") for bar in suppressed), "suppressed bars say so")
        shown_leaves = [b for s in facts["sections"] for b in s["bars"] if b["neighborhood"] == "eastgate" and not b["suppressed"]]
        check(not shown_leaves, "East Gate (one partner) is never shown to the viewer")
        browser.screenshot(os.path.join(artifacts, "dashboard-viewer.png"))
        browser.evaluate("document.getElementById('indicator-esl_learners_enrolled').scrollIntoView()")
        browser.screenshot(os.path.join(artifacts, "dashboard-viewer-esl.png"), full_page=False)

        print("revocation")
        api("DELETE", f"/v1/keys/{viewer['id']}")
        browser.navigate(base + "/dashboard")
        check(browser.document_status == 401, "after the key is revoked the dashboard answers 401")
        check("Your session has ended" in browser.evaluate("document.body.innerText"), "and says the session has ended")
        check(browser.evaluate("!!document.querySelector('form[action=\"/dashboard/sign-in\"]')"), "and offers the sign-in form")
        browser.navigate(base + "/dashboard")
        check(browser.evaluate("location.pathname") == "/dashboard/sign-in", "the ended session's cookie is gone")

        print("partner upload")
        partner_secret = upload_as_partner(browser, base, api, check, artifacts)
        print("data-quality panel")
        quality_panel(browser, base, partner_secret, coordinator_key, check, artifacts)
        print("board packet")
        browser.call("Network.clearBrowserCookies")
        browser.sign_in(base, coordinator_key)
        board_packet(browser, base, api, api_as(partner_secret), check, artifacts)
    finally:
        browser.close()

    print(f"screenshots in {artifacts}/")
    if failures:
        print(f"browser test: {len(failures)} check(s) failed")
        return 1
    print("browser test: every check passed")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else "ci-artifacts"))
