"""The map page in a real browser, offline, against a naive folium page in the same run.

    .venv/bin/python benchmarks/bench_map_page.py [--runs 3] [--write-docs]
        [--store demo] [--store police-uk] [--store generated]

Prepares each store once, as a user would: ``demo`` (``clic-geo serve --demo`` seeds
it), ``police-uk`` (the 10 real data.police.uk months of ``../shared/data`` imported
into a fresh store with ``clic-geo import police-uk``, one officer account, four
addresses of concern so the map has them to draw) and ``generated`` (12 consecutive
months of county-wide volume, ~40,800 rows, drawn from the real months' rows and
imported the same way). The import computes the stored hotspot maps and trust tests
(``clic-geo refresh``), as it does for a user. Then, for each run, starts the
dashboard afresh (cold caches, ``CLIC_LOG=debug``), signs in as the officer in
headless chromium with every request off 127.0.0.1 sent to a dead proxy (counted; not a
Playwright route, which would pause each request and turn the cache off), and times what a person
does on the map page:

- the first map after signing in (all Cumbria, last 3 months), then the period
  changed to 12 months, the area changed to Barrow-in-Furness, a layer toggled, the
  map page opened again from another page (one area, 12 months), the area changed
  back to all Cumbria, and that page opened again; then the Data page opened;
- the naive reference (``benchmarks/naive_map_app.py``: one folium marker per
  incident of the same area, period and categories) on the same store, in the same
  browser: all Cumbria over the first map's 3 months, and Barrow over 12 months.

Each step is timed from the person's last click (for an area change, the area's
entry in the opened list; opening the list is reported on its own, ``list_open_s``).
"Drawn" is the moment a new map frame (not the one shown before the action) shows
its Leaflet map with the expected features (numbered hotspots, outlines, incident
clusters; the naive map: its markers); "interactive" the moment the map is drawn,
the frame's DOM has stopped changing and Streamlit's script is idle (both quiet for
1.5 s; the time reported excludes the quiet wait). Payload: bytes of the websocket
messages that carry the map component (the folium HTML and script), and all bytes
received over the websocket, per step. Clustering runs: the server's
``hotspot clustering run`` debug lines during the step (hotspots and the trust
backtest both cluster). Prints every figure's min / median / max over the runs, and
ours / naive for the matching figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clic_geo.settings import load_settings  # noqa: E402
from clic_geo.store import Store  # noqa: E402
from tests.browser import (  # noqa: E402
    SCRIPT_STATE,
    browser,
    free_port,
    serve,
)

QUIET_S = 1.5
CLUSTER_LINE = "hotspot clustering run"
# in every frame: the wall-clock time of the last DOM change
MUTATIONS = (
    "window.__lastMut = Date.now();"
    "new MutationObserver(function(){ window.__lastMut = Date.now(); })"
    ".observe(document, {subtree: true, childList: true, attributes: true,"
    " characterData: true});"
)
COUNTS = (
    "() => [window.__lastMut || 0,"
    " document.querySelectorAll('.leaflet-container').length,"
    " document.querySelectorAll('path.leaflet-interactive').length,"
    " document.querySelectorAll('.marker-cluster').length,"
    " document.querySelectorAll('.leaflet-marker-icon').length,"
    " document.querySelectorAll('.clic-label').length,"
    " !!window.__stale]"
)


class Wire:
    """Bytes received over the page's websocket (all, and the map component's)."""

    def __init__(self, page) -> None:
        self.total = 0
        self.map = 0
        page.on("websocket", self._socket)

    def _socket(self, ws) -> None:
        ws.on("framereceived", self._frame)

    def _frame(self, payload) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        self.total += len(data)
        if b"streamlit_folium.st_folium" in data:
            self.map += len(data)

    def mark(self) -> tuple[int, int]:
        return self.total, self.map


def map_frames(page):
    return [f for f in page.frames if "st_folium" in f.url and not f.is_detached()]


def wait_interactive(page, t0: float, *, need, timeout_s: float = 120.0) -> tuple[float, float]:
    """Seconds from ``t0`` (wall clock) until the map is first drawn, and until it is
    drawn and everything is quiet (interactive)."""
    deadline = time.time() + timeout_s
    idle_since = None
    first_drawn = None
    while time.time() < deadline:
        now = time.time()
        running = page.evaluate(SCRIPT_STATE) != "notRunning"
        if running:
            idle_since = None
        elif idle_since is None:
            idle_since = now
        frames = map_frames(page)
        stats = []
        for f in frames:
            try:
                stats.append(f.evaluate(COUNTS))
            except Exception:
                stats = []
                break
        drawn = [s for s in stats if s[1] and (need is None or need(s))]
        ok = (drawn and len(drawn) == len(stats)) if need is not None else True
        if first_drawn is None and any(not s[6] for s in drawn):
            first_drawn = now  # a new map frame, not the one shown before the action
        if idle_since is not None and ok:
            last_mut = max([s[0] for s in stats], default=0) / 1000
            settled = max(idle_since, last_mut, t0)
            if now - settled >= QUIET_S:
                return min(first_drawn or settled, settled) - t0, settled - t0
        time.sleep(0.05)
    raise TimeoutError("the map did not become interactive")


def ours_ready(s) -> bool:
    return s[5] >= 1 and s[2] >= 5 and s[3] >= 1  # numbered hotspots, outlines, clusters


def naive_ready(s) -> bool:
    return s[4] >= 1


def log_lines(path: Path | None) -> int:
    if path is None or not path.exists():
        return 0
    return path.read_text(errors="replace").count(CLUSTER_LINE)


def step(results, name, page, wire, log, action, need=ours_ready, before=None) -> None:
    """Time ``action`` (the person's last click) until the map is drawn and quiet.
    ``before`` runs first, untimed: what the person does to get there (open a list)."""
    if before is not None:
        tb = time.time()
        before()
        results[name]["list_open_s"].append(time.time() - tb)
    b0, m0 = wire.mark()
    c0 = log_lines(log)
    for f in map_frames(page):
        f.evaluate("() => { window.__stale = true; }")
    t0 = time.time()
    action()
    drawn, secs = wait_interactive(page, t0, need=need)
    b1, m1 = wire.mark()
    results[name]["drawn_s"].append(drawn)
    results[name]["interactive_s"].append(secs)
    results[name]["map_bytes"].append(m1 - m0)
    results[name]["ws_bytes"].append(b1 - b0)
    if log is not None:
        results[name]["clustering_runs"].append(log_lines(log) - c0)


def type_start(page, start: date) -> None:
    """Type the period's start date into its fields (Streamlit applies it on leaving)."""
    for part, text in (("day", f"{start:%d}"), ("month", f"{start:%m}"), ("year", f"{start:%Y}")):
        page.get_by_role("spinbutton", name=f"{part}, Period start date").click()
        page.keyboard.type(text)


def leave_field(page) -> None:
    page.locator("h1").first.click()


def data_ready(page) -> None:
    """The Data page's trust table is shown (its last section before the import log)."""
    page.get_by_text("How much to trust the hotspot map, on this data").wait_for(timeout=120_000)
    page.locator('[data-testid="stDataFrame"]').last.wait_for(timeout=120_000)


def open_area_list(page, name: str) -> None:
    """Open the Area list until ``name`` is shown in it (not timed: the list is the
    browser's own popover, ~50 ms to a person's click; the harness's actionability
    checks around it took 0.06-0.8 s on this machine)."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Area").click()
    page.get_by_role("option", name=name).wait_for()


def choose_area(page, name: str) -> None:
    """Click ``name`` in the open Area list: the click a person makes to change area."""
    page.get_by_role("option", name=name).click()


def nav(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()


def wait_quiet(page) -> None:
    wait_interactive(page, time.time(), need=None)


@contextmanager
def serve_naive(data_dir: Path, area: str | None, start: date, end: date):
    """The naive app, served with the dashboard's static folder (offline map assets)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "naive_app.py"
        app.write_text(
            "import runpy\n"
            f"runpy.run_path({str(ROOT / 'benchmarks' / 'naive_map_app.py')!r},"
            " run_name='__main__')\n"
        )
        (Path(tmp) / "static").symlink_to(ROOT / "static")
        port = free_port()
        env = dict(os.environ)
        env.pop("CLIC_DEMO", None)
        env.update(
            CLIC_DATA_DIR=str(data_dir),
            BENCH_AREA=area or "",
            BENCH_START=start.isoformat(),
            BENCH_END=end.isoformat(),
            PYTHONPATH=str(ROOT),
        )
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(app),
            "--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--server.enableStaticServing", "true",
            "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(400):
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                        break
                except OSError:
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def page_step(results, name, page, wire, log, action, ready) -> None:
    """A step that ends when a page without a map is shown and Streamlit is idle."""
    b0, _ = wire.mark()
    c0 = log_lines(log)
    t0 = time.time()
    action()
    ready(page)
    while page.evaluate(SCRIPT_STATE) != "notRunning":
        time.sleep(0.05)
    results[name]["interactive_s"].append(time.time() - t0)
    results[name]["ws_bytes"].append(wire.mark()[0] - b0)
    results[name]["clustering_runs"].append(log_lines(log) - c0)


def one_run(
    results, data_dir: Path, logs: Path, start12: date, start3: date, end: date, run: int,
    kind: str,
) -> None:  # fmt: skip
    log = logs / f"server-{kind}-{run}.log"
    user, password = ACCOUNTS[kind]
    demo = kind == "demo"
    with (
        serve(data_dir, demo=demo, env={"CLIC_LOG": "debug"}, log=log) as url,
        browser(offline=True, intercept=False) as ctx,
    ):
        ctx.add_init_script(MUTATIONS)
        page = ctx.new_page()
        wire = Wire(page)
        page.goto(url + "/", wait_until="domcontentloaded")
        page.get_by_role("textbox", name="Username").wait_for(timeout=90_000)
        wait_quiet(page)
        page.get_by_role("textbox", name="Username").fill(user)
        page.get_by_role("textbox", name="Password").fill(password)
        s = "first map after sign-in: all Cumbria, 3 months (cold)"
        step(results, s, page, wire, log,
             lambda: page.get_by_role("button", name="Sign in").click())  # fmt: skip
        type_start(page, start12)
        s = "date change: all Cumbria, 3 -> 12 months (cold)"
        step(results, s, page, wire, log, lambda: leave_field(page))
        s = "area change: Barrow, 12 months (cold)"
        step(results, s, page, wire, log, lambda: choose_area(page, "Barrow-in-Furness"),
             before=lambda: open_area_list(page, "Barrow-in-Furness"))  # fmt: skip
        s = "layer toggle: heat surface on, Barrow"
        step(results, s, page, wire, log,
             lambda: page.get_by_role("button", name="Heat surface").click())  # fmt: skip
        s = "layer toggle: heat surface off, Barrow"
        step(results, s, page, wire, log,
             lambda: page.get_by_role("button", name="Heat surface").click())  # fmt: skip
        nav(page, "Audit log")
        wait_quiet(page)
        s = "open map page: Barrow, 12 months (warm)"
        step(results, s, page, wire, log, lambda: nav(page, "Map"))
        s = "area change: all Cumbria, 12 months (seen before)"
        step(results, s, page, wire, log, lambda: choose_area(page, "All Cumbria"),
             before=lambda: open_area_list(page, "All Cumbria"))  # fmt: skip
        nav(page, "Audit log")
        wait_quiet(page)
        s = "open map page: all Cumbria, 12 months (warm)"
        step(results, s, page, wire, log, lambda: nav(page, "Map"))
        s = "open Data page (first time on this server)"
        page_step(results, s, page, wire, log, lambda: nav(page, "Data"), data_ready)
        assert ctx.blocked == [], f"requests left the machine: {ctx.blocked[:3]}"
    # the naive reference on the same store, each in a fresh server
    for name, area, start in ((NAIVE_ALL, None, start3), (NAIVE, "barrow", start12)):
        with (
            serve_naive(data_dir, area, start, end) as url,
            browser(offline=True, intercept=False) as ctx,
        ):
            ctx.add_init_script(MUTATIONS)
            page = ctx.new_page()
            wire = Wire(page)
            step(results, name, page, wire, None,
                 lambda p=page, u=url: p.goto(u + "/", wait_until="commit"),
                 need=naive_ready)  # fmt: skip
            assert ctx.blocked == [], f"requests left the machine: {ctx.blocked[:3]}"


FIGURES = {
    "list_open_s": ("s", "{:.2f}", 1),
    "drawn_s": ("s", "{:.2f}", 1),
    "interactive_s": ("s", "{:.2f}", 1),
    "map_bytes": ("MB", "{:.3f}", 1e6),
    "ws_bytes": ("MB", "{:.3f}", 1e6),
    "clustering_runs": ("runs", "{:.0f}", 1),
}
NAIVE = "naive: open map page: Barrow, 12 months"
NAIVE_ALL = "naive: open map page: all Cumbria, 3 months"
PAIRS = {
    "first map after sign-in: all Cumbria, 3 months (cold)": NAIVE_ALL,
    "open map page: Barrow, 12 months (warm)": NAIVE,
    "area change: Barrow, 12 months (cold)": NAIVE,
}


def report(results, runs: int) -> list[str]:
    out = [
        f"{runs} runs; min / median / max. Ratio: ours / naive (median of run-by-run ratios).",
        "",
        "| step | figure | min | median | max | ours / naive |",
        "|---|---|---|---|---|---|",
    ]
    for name, figs in results.items():
        for fig, xs in figs.items():
            unit, fmt, div = FIGURES[fig]
            if not xs:
                continue
            ys = [x / div for x in xs]
            ratio = ""
            if name in PAIRS and fig in results[PAIRS[name]]:
                ref = results[PAIRS[name]][fig]
                r = [a / b for a, b in zip(xs, ref, strict=True) if b]
                ratio = f"{statistics.median(r):.3f}" if r else ""
            out.append(
                f"| {name} | {fig} ({unit}) | {fmt.format(min(ys))} | "
                f"{fmt.format(statistics.median(ys))} | {fmt.format(max(ys))} | {ratio} |"
            )
    return out


def machine() -> str:
    cpu = ""
    with open("/proc/cpuinfo") as f:
        m = re.search(r"model name\s*:\s*(.*)", f.read())
        cpu = m.group(1) if m else platform.processor()
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()}"


#: The officer each store's benchmark signs in as.
ACCOUNTS = {
    "demo": ("demo-officer", "officer-demo-1clic"),
    "police-uk": ("bench-officer", "cumbria-map-test-7731"),
    "generated": ("bench-officer", "cumbria-map-test-7731"),
}
REAL = ROOT.parent / "shared" / "data" / "police_uk_cumbria" / "street"
#: Four addresses of concern (fictional), so the map has them to draw.
ADDRESSES = (
    "id,address,latitude,longitude,status,status date\n"
    "B1,1 Example Row Barrow,54.1115,-3.2268,suspected,2024-03-01\n"
    "K1,2 Example Yard Kendal,54.3280,-2.7460,confirmed,2024-02-01\n"
    "C1,3 Example Lane Carlisle,54.8920,-2.9330,suspected,2024-03-15\n"
    "W1,4 Example Street Workington,54.6420,-3.5490,resolved,2024-01-10\n"
)


def cli(data_dir: Path, *args: str, stdin: str | None = None) -> None:
    """Run ``clic-geo`` as a user does (its own process)."""
    cmd = [sys.executable, "-m", "clic_geo", "--data-dir", str(data_dir), *args]
    done = subprocess.run(cmd, input=stdin, text=True, capture_output=True)
    if done.returncode:
        raise RuntimeError(f"clic-geo {' '.join(args[:2])} failed: {done.stderr.strip()}")


def generated_months(folder: Path, n_months: int = 12, seed: int = 7) -> list[Path]:
    """12 consecutive months of county-wide volume: each month's rows drawn (with
    replacement) from the real months' rows, so places and crime types are real."""
    real = pd.concat([pd.read_csv(f, dtype=str) for f in sorted(REAL.glob("*.csv"))])
    per_month = round(len(real) / len(list(REAL.glob("*.csv"))))
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, month in enumerate(pd.period_range("2025-01", periods=n_months, freq="M")):
        rows = real.sample(per_month, replace=True, random_state=seed + i).copy()
        rows["Month"] = str(month)
        rows["Crime ID"] = [f"gen{month}-{k:05d}" for k in range(len(rows))]
        f = folder / f"{month}-cumbria-street.csv"
        rows.to_csv(f, index=False)
        out.append(f)
    return out


def prepare(kind: str, data_dir: Path, tmp: Path) -> None:
    """A store as a user would have it: imported through the command line."""
    if kind == "demo":
        with serve(data_dir):  # serve --demo seeds an empty store (and refreshes)
            pass
        return
    files = sorted(REAL.glob("*.csv")) if kind == "police-uk" else generated_months(tmp / "gen")
    t0 = time.perf_counter()
    cli(data_dir, "import", "police-uk", *map(str, files))
    print(f"{kind}: import + refresh {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    addresses = tmp / "addresses.csv"
    addresses.write_text(ADDRESSES)
    cli(data_dir, "import", "addresses", str(addresses), "--source", "bench")
    cli(data_dir, "users", "add-org", "police-bench", "--name", "Police", "--kind", "police")
    user, password = ACCOUNTS[kind]
    cli(data_dir, "users", "add", user, "--role", "officer", "--org", "police-bench",
        "--password-stdin", stdin=password + "\n")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--store",
        action="append",
        choices=list(ACCOUNTS),
        help="which store (repeatable; default: demo)",
    )
    ap.add_argument("--write-docs", action="store_true", help="write docs/dashboard.md figures")
    args = ap.parse_args()
    blocks: list[str] = []
    for kind in args.store or ["demo"]:
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = Path(tmp) / "store"
            prepare(kind, data_dir, Path(tmp))
            store = Store.open(load_settings(data_dir))
            _first, end = store.date_span()
            n = store.counts()["incidents"]
            store.close()
            start12 = (pd.Timestamp(end) - pd.DateOffset(months=12) + pd.Timedelta(days=1)).date()
            start3 = (pd.Timestamp(end) - pd.DateOffset(months=3) + pd.Timedelta(days=1)).date()
            start12, start3 = max(start12, _first), max(start3, _first)
            results: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
            for run in range(args.runs):
                one_run(results, data_dir, Path(tmp), start12, start3, end, run, kind)
                print(f"{kind}: run {run + 1}/{args.runs} done", file=sys.stderr, flush=True)
        lines = report(results, args.runs)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        what = {
            "demo": "demo data",
            "police-uk": "the 10 real data.police.uk months",
            "generated": "12 generated months of county-wide volume",
        }[kind]
        head = (
            f"Map page benchmark, {stamp}; {machine()}; {what} ({n:,} incidents), "
            f"period {start12} to {end}."
        )
        print(head)
        print("\n".join(lines))
        print()
        blocks += [head, "", *lines, ""]
    if args.write_docs:
        write_docs(blocks)


def write_docs(blocks: list[str]) -> None:
    doc = ROOT / "docs" / "dashboard.md"
    text = doc.read_text() if doc.exists() else ""
    begin, finish = "<!-- bench_map_page:begin -->", "<!-- bench_map_page:end -->"
    block = "\n".join([begin, "", *blocks, finish])
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(finish), block, text, flags=re.S)
    else:
        text += ("\n" if text else "") + block + "\n"
    doc.write_text(text)


if __name__ == "__main__":
    main()
