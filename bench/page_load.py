"""The first full page load of the login page and of Beranda, in headless Chromium, against
a running Klinikita (`make run` serves the production build, `make dev` the dev server).

Each run opens a fresh browser (empty cache, as a desk PC's first visit after a start):
- login page: from the navigation to the username field ready for typing (the page hydrated,
  its state answered over the websocket);
- Beranda: logged in (the token in localStorage), a full load of / until today's numbers are
  shown. The first run is the first load after the server started when it is run right after
  the start; later runs show the server warm.

    .venv/bin/python bench/page_load.py --url http://localhost:3000 --runs 3 --label prod

Prints one line per run and the median; the figures are for docs and the issue's closing
note, there is no limit to pass.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("KLINIKITA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]
TIMEOUT_MS = 120_000


def _login_page(page, url: str) -> float:  # noqa: ANN001
    started = time.perf_counter()
    page.goto(f"{url}/login", wait_until="commit", timeout=TIMEOUT_MS)
    page.locator("#username").wait_for(state="visible", timeout=TIMEOUT_MS)
    page.wait_for_function(
        "() => !document.querySelector('#login-submit')?.disabled", timeout=TIMEOUT_MS
    )
    page.wait_for_load_state("load", timeout=TIMEOUT_MS)
    return time.perf_counter() - started


def _log_in(page, username: str, password: str) -> None:  # noqa: ANN001
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.locator("[id^='beranda-group-'], #beranda-readiness").first.wait_for(timeout=TIMEOUT_MS)


def _beranda(page, url: str) -> float:  # noqa: ANN001
    started = time.perf_counter()
    page.goto(f"{url}/", wait_until="commit", timeout=TIMEOUT_MS)
    page.locator("[id^='beranda-group-'], #beranda-readiness").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_load_state("load", timeout=TIMEOUT_MS)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:3000")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="Admin#2026")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--label", default="")
    args = parser.parse_args(argv)
    url = args.url.rstrip("/")
    logins, homes = [], []
    with sync_playwright() as p:
        for run in range(1, args.runs + 1):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            login = _login_page(page, url)
            _log_in(page, args.username, args.password)
            home = _beranda(page, url)
            browser.close()
            logins.append(login)
            homes.append(home)
            print(f"{args.label} run {run}: login page {login:.2f} s, Beranda {home:.2f} s")
    print(
        f"{args.label} median of {args.runs}: login page {statistics.median(logins):.2f} s, "
        f"Beranda {statistics.median(homes):.2f} s (first run: {logins[0]:.2f} s, "
        f"{homes[0]:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
