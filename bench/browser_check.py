"""The operator's walk through the Dagster UI in a real browser (headless Chromium): what an operator sees
when backfilling a tenant and after a dry run of the write-back. Writes a screenshot per page and exits
non-zero if a page does not show what it must.

    .venv/bin/python bench/browser_check.py [--out data/browser-check] [--chromium PATH]

Needs a Chromium binary (`apt-get install chromium`); without one it says so and exits 2. Drives it over
the DevTools protocol (clicks included). Pages:
1. `lexware_backfill` overview: the job says "Backfill tenant X from date A to date B"; no "Materialize all".
2. its Launchpad: asks for tenant, voucher_date_from and voucher_date_to (required, nothing pre-filled:
   no default window, no `mode: incremental`), so "Launch Run" stays disabled until they are entered.
3. a run of `apply_corrections_dry_run`: the header names the job; "View tags and config" shows the tags
   kontor/dry_run and kontor/plan (the diff).
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from sandbox.process import free_port  # noqa: E402

LOCATION = "assets.definitions"
CONFIG = """warehouse: warehouse.duckdb
tenants:
  - {name: nordlicht, base_url: "http://127.0.0.1:9", api_key_env: KONTOR_BROWSER_CHECK_KEY}
  - {name: spree, base_url: "http://127.0.0.1:9", api_key_env: KONTOR_BROWSER_CHECK_KEY}
"""


def find_chromium(given: str | None) -> str | None:
    candidates = [given] if given else ["chromium", "chromium-browser", "google-chrome", "chrome"]
    return next((shutil.which(c) for c in candidates if c and shutil.which(c)), None)


class Browser:
    """Headless Chromium driven over the DevTools protocol: navigate, read the rendered text, click a
    button by its label, take screenshots."""

    def __init__(self, chromium: str, profile: Path) -> None:
        port = free_port()
        self.proc = subprocess.Popen(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=1400,1000",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        pages = _wait(
            lambda: [
                t for t in httpx.get(f"http://127.0.0.1:{port}/json/list").json() if t["type"] == "page"
            ],
            60,
        )
        self.ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=None)
        self.ids = itertools.count(1)

    def call(self, method: str, **params: object) -> dict:
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == call_id:
                return message.get("result", {})

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def text(self) -> str:
        result = self.call(
            "Runtime.evaluate", expression="document.body ? document.body.innerText : ''", returnByValue=True
        )
        return result.get("result", {}).get("value") or ""

    def wait_for(self, texts: list[str], timeout: float = 90) -> str:
        """The page's text once it shows every one of `texts` (or whatever it shows after `timeout`)."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            if all(t in text for t in texts) or time.monotonic() > deadline:
                return text
            time.sleep(0.5)

    def click(self, label: str) -> bool:
        script = (
            "(() => { const b = [...document.querySelectorAll('button, a')].find("
            f"e => e.innerText.trim() === {json.dumps(label)}); if (b) b.click(); return !!b; }})()"
        )
        return bool(
            self.call("Runtime.evaluate", expression=script, returnByValue=True)
            .get("result", {})
            .get("value")
        )

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(30)


def _wait(probe, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if value := probe():
                return value
        except (httpx.HTTPError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout}s")
        time.sleep(0.3)


def dry_run(home: Path, config: Path) -> str:
    """One run of apply_corrections_dry_run in the instance the webserver shows; its run id."""
    from dagster import DagsterInstance

    from assets.extraction import KontorConfigResource
    from assets.writeback import apply_corrections_dry_run

    with DagsterInstance.from_config(str(home)) as instance:
        result = apply_corrections_dry_run.execute_in_process(
            instance=instance, resources={"kontor": KontorConfigResource(path=str(config))}
        )
        assert result.success, "the dry run failed"
        return result.run_id


def walk(browser: Browser, base: str, run_id: str, out: Path) -> list[str]:
    """Each page the operator meets; returns what failed (empty: all good)."""
    job = f"{base}/locations/{LOCATION}/jobs/lexware_backfill"
    steps = [  # name, url, buttons to click first, must show, must not show
        (
            "1-backfill-job",
            job,
            [],
            ["Backfill tenant X from date A to date B", "Launchpad"],
            ["Materialize all"],
        ),
        (
            "2-backfill-launchpad",
            f"{job}/playground",
            [],
            ["Missing required config", "tenant", "voucher_date_from", "voucher_date_to", "Launch Run"],
            ["mode: incremental", "2025-01-01"],
        ),
        (
            "3-dry-run-header",
            f"{base}/runs/{run_id}",
            ["View tags and config"],
            ["apply_corrections_dry_run", "kontor/dry_run", "kontor/plan", "no open corrections"],
            [],
        ),
    ]
    failures = []
    for name, url, buttons, must, must_not in steps:
        browser.goto(url)
        for label, reveals in zip(buttons, [*buttons[1:], must][: len(buttons)], strict=True):
            # click until the page shows what the click should reveal (the UI loads lazily)
            browser.wait_for([label])
            deadline = time.monotonic() + 60
            while not all(t in browser.text() for t in reveals) and time.monotonic() < deadline:
                if not browser.click(label):
                    failures.append(f"{name}: no button {label!r}")
                    break
                browser.wait_for(reveals, timeout=5)
        text = browser.wait_for(must)
        time.sleep(1)  # let the last paint settle for the screenshot
        browser.screenshot(out / f"{name}.png")
        missing = [t for t in must if t not in text]
        shown = [t for t in must_not if t in text]
        ok = not missing and not shown
        print(
            f"{'ok  ' if ok else 'FAIL'} {name}: {url}  screenshot {out / f'{name}.png'}"
            + (f"  missing {missing}" if missing else "")
            + (f"  shows {shown}" if shown else "")
        )
        if not ok:
            failures.append(name)
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "data" / "browser-check"), help="screenshots go here")
    parser.add_argument("--chromium", help="the browser binary (default: chromium on PATH)")
    args = parser.parse_args(argv)
    chromium = find_chromium(args.chromium)
    if not chromium:
        print(
            "browser check: no chromium binary found (apt-get install chromium); nothing checked",
            file=sys.stderr,
        )
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kontor-browser-") as tmp:
        home, config = Path(tmp) / "dagster", Path(tmp) / "kontor.yaml"
        home.mkdir()
        (home / "dagster.yaml").write_text(
            "telemetry:\n  enabled: false\nnux:\n  enabled: false\n", encoding="utf-8"
        )
        config.write_text(CONFIG, encoding="utf-8")
        os.environ.update({"DAGSTER_HOME": str(home), "KONTOR_CONFIG": str(config)})
        run_id = dry_run(home, config)
        port = free_port()
        web = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("dagster-webserver")),
                "-m",
                LOCATION,
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        browser = None
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(lambda: httpx.get(f"{base}/server_info", timeout=2).status_code == 200, 180)
            browser = Browser(chromium, Path(tmp) / "profile")
            failures = walk(browser, base, run_id, out)
        finally:
            if browser:
                browser.close()
            web.terminate()
            web.wait(30)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
