"""The board packet of the benchmark's largest agenda: how long the printable page takes to
compute (p50/p99, the coordinator's and the public one), and, printed by headless Chromium
at A4, its pages and size (docs/packets.md). Called by bench.py after the releases."""
import base64
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))


def measure(client, base, key, agenda, period, runs, percentiles):
    path = f"/dashboard/board-packet?agenda={agenda}&period={period}"
    timings = {}
    for audience in ["coordinator", "public"]:
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            page = client.request("GET", f"{path}&audience={audience}")
            samples.append((time.perf_counter() - started) * 1000)
        p50, p99 = percentiles(samples)
        timings[audience] = {"http_p50_ms": round(p50, 1), "http_p99_ms": round(p99, 1), "html_bytes": len(page)}
    result = {"agenda": agenda, "period": period, "runs": runs, **timings}
    try:
        from browser_test import Browser
    except (ImportError, SystemExit) as error:  # no websocket-client or no chromium: timings only
        result["pdf"] = f"not printed: {error}"
        return result
    browser = Browser()
    try:
        browser.sign_in(base, key)
        started = time.perf_counter()
        browser.navigate(base + path)
        pdf = base64.b64decode(browser.call("Page.printToPDF", printBackground=True, paperWidth=8.27, paperHeight=11.69,
                                            marginTop=0, marginBottom=0, marginLeft=0, marginRight=0)["data"])
        printed_seconds = time.perf_counter() - started
    finally:
        browser.close()
    with tempfile.NamedTemporaryFile(suffix=".pdf", delete=False) as file:
        file.write(pdf)
    info = subprocess.run(["pdfinfo", file.name], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))
    os.unlink(file.name)
    result["pdf"] = {"pages": pages, "bytes": len(pdf), "load_and_print_seconds": round(printed_seconds, 2)}
    return result
