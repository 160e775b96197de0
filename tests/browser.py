"""Start the dashboard on a free port and drive it with Debian's chromium (Playwright).

Used by the browser tests and by ``benchmarks/bench_map_page.py``. Never runs
``playwright install``: the browser is /usr/bin/chromium from Debian.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(
    data_dir: Path, *, demo: bool = True, env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[str]:
    """Run the dashboard; yields its base URL; stops it afterwards."""
    port = free_port()
    e = dict(os.environ)
    e.pop("CLIC_DEMO", None)
    e.update(env or {})
    # exactly what a user runs: clic-geo serve [--demo] (which seeds the demo first)
    cmd = [
        sys.executable,
        "-m",
        "clic_geo",
        "--data-dir",
        str(data_dir),
        "serve",
        "--port",
        str(port),
        "--address",
        "127.0.0.1",
    ] + (["--demo"] if demo else [])
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=e, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the dashboard exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("the dashboard did not start within 120 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            out.close()


#: Where the browser sends every request not to this machine when nothing may be paused:
#: a port nothing listens on (Chromium never proxies loopback addresses).
DEAD_PROXY = "http://127.0.0.1:9"


def _off_machine(url: str) -> bool:
    return not url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:"))


@contextlib.contextmanager
def browser(*, offline: bool = True, intercept: bool = True):
    """A headless chromium; with ``offline``, requests off 127.0.0.1 are blocked and counted.

    ``intercept`` (the tests) blocks each request in a Playwright route. A route pauses
    every request until this Python process answers it (in the sync API only while it
    is inside a Playwright call) and turns the browser's cache off, so timings made
    through it include the harness. ``intercept=False`` (the benchmarks) sends every
    request off the machine to a dead proxy instead and only watches requests: nothing
    is paused, the cache works as for a person, and blocked requests are still counted.
    """
    from playwright.sync_api import sync_playwright

    args = list(CHROMIUM_ARGS)
    if offline and not intercept:
        args.append(f"--proxy-server={DEAD_PROXY}")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        ctx = b.new_context(viewport={"width": 1366, "height": 768})
        ctx.blocked = []  # type: ignore[attr-defined]
        if offline and intercept:

            def route(r):
                if not _off_machine(r.request.url):
                    return r.continue_()
                ctx.blocked.append(r.request.url)  # type: ignore[attr-defined]
                return r.abort()

            ctx.route("**/*", route)
        elif offline:

            def watch(req):
                if _off_machine(req.url):
                    ctx.blocked.append(req.url)  # type: ignore[attr-defined]

            ctx.on("request", watch)
        try:
            yield ctx
        finally:
            ctx.close()
            b.close()


SCRIPT_STATE = (
    "() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
    " return a ? a.getAttribute('data-test-script-state') : null; }"
)


def wait_idle(page, *, quiet_s: float = 1.5, timeout_s: float = 90.0) -> float:
    """Wait until the app's script has stopped running and stayed stopped for ``quiet_s``.

    Returns the monotonic time at which it last became idle (so callers can measure
    without the quiet period). st_folium triggers one extra rerun after drawing.
    """
    deadline = time.monotonic() + timeout_s
    idle_since = None
    while time.monotonic() < deadline:
        state = page.evaluate(SCRIPT_STATE)
        if state == "notRunning":
            if idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= quiet_s:
                return idle_since
        else:
            idle_since = None
        time.sleep(0.05)
    raise TimeoutError("the app did not become idle")


def open_page(ctx, url: str, *, wait_for_map: bool = True, timeout_ms: int = 90_000):
    """Open a page and wait for the app (and its map, if any) to be drawn."""
    page = ctx.new_page()
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    if wait_for_map:
        frame = page.frame_locator(MAP_FRAME)
        frame.locator(".leaflet-container").first.wait_for(timeout=timeout_ms)
    page.idle_at = wait_idle(page)  # type: ignore[attr-defined]
    return page


def sign_out(page, *, timeout_ms: int = 90_000):
    """Sign out with the sidebar button; waits for the Sign in page."""
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("textbox", name="Username").wait_for(timeout=timeout_ms)
    page.idle_at = wait_idle(page)  # type: ignore[attr-defined]
    return page


def python() -> str:
    return sys.executable


def sign_in(
    ctx,
    url: str,
    username: str = "demo-officer",
    password: str = "officer-demo-1clic",
    *,
    timeout_ms: int = 90_000,
):
    """Open the app, sign in through the form, and return the page (on the default page).

    The context's cookies are cleared first: a context that signed in before holds the
    session cookie, and would open the app signed in (reload-safe sessions).
    """
    ctx.clear_cookies()
    page = ctx.new_page()
    page.goto(url + "/", wait_until="domcontentloaded", timeout=timeout_ms)
    page.get_by_role("textbox", name="Username").wait_for(timeout=timeout_ms)
    wait_idle(page)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for(timeout=timeout_ms)
    page.idle_at = wait_idle(page)  # type: ignore[attr-defined]
    return page


def goto(page, url: str, *, wait_for_map: bool = True, timeout_ms: int = 90_000):
    """Go to another page of the app in the same (signed-in) browser tab.

    Streamlit keeps its page session over its own page links (a full reload starts a
    new one, signed in again from the session cookie, but slower). So click the link.
    """
    path = url.rstrip("/").rsplit("/", 1)[-1]
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').click()
    if wait_for_map:
        page.frame_locator(MAP_FRAME).last.locator(".leaflet-container").first.wait_for(
            timeout=timeout_ms
        )
    page.idle_at = wait_idle(page)  # type: ignore[attr-defined]
    return page
