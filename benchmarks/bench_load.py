"""Many users at once: officers and partners on one server while a large import runs.

Bounded and local only (127.0.0.1). Prepares a demo store with ``--officers`` officer
and ``--partners`` partner accounts (bcrypt as configured, 12 rounds), starts
``clic-geo serve --demo`` on it, then every session opens the sign-in page and, all at
the same moment, signs in; officers then change area (the map is redrawn) and plan
tomorrow's route; partners change area on their figures. While they do, ``clic-geo
import incidents`` imports ``--import-rows`` incidents into the same store.

Two kinds of client (``--client``):

- ``ws``: a websocket-level client (``benchmarks/st_client.py``) that speaks
  Streamlit's protocol: times are from the request leaving to the server's answer
  arriving (the map component for the Map page), i.e. server time plus loopback;
- ``browser``: real browsers (Debian's chromium via Playwright, one context per
  session): times until the map is drawn in the page (server + browser).

The reference measured in the same run is one session alone (sign-in to map, after the
caches are warm): the burst's p95 is also given as a ratio to it. Also reported:
errors (st.error / exceptions / missing map / timeouts), the server's CPU seconds per
session and its peak memory (VmHWM), and the import's outcome.

    .venv/bin/python benchmarks/bench_load.py --store sqlite --client ws
    .venv/bin/python benchmarks/bench_load.py --store postgis --client ws
    .venv/bin/python benchmarks/bench_load.py --store sqlite --client browser
    .venv/bin/python benchmarks/bench_load.py --signin-only --import-rows 0 --servers 2
    .venv/bin/python benchmarks/bench_load.py --officers 4 --partners 1 --import-rows 20000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.st_client import StreamlitSession  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, MAP_FRAME, serve  # noqa: E402

PASSWORD = "load-test-password-1"
OFFICER_AREAS = ["Barrow-in-Furness", "Kendal", "Carlisle", "West Cumbria"]


def incidents_csv(path: Path, n: int, *, prefix: str = "L") -> Path:
    """``n`` distinct incidents around Barrow over 2025 (a police export's shape)."""
    with path.open("w") as f:
        f.write("id,date,type,lat,lon\n")
        for i in range(n):
            f.write(
                f"{prefix}{i},2025-{1 + i % 12:02d}-{1 + i % 28:02d},"
                f"{('drugs', 'violence', 'burglary')[i % 3]},"
                f"{54.10 + (i % 997) * 0.00003:.6f},{-3.24 + (i % 991) * 0.00003:.6f}\n"
            )
    return path


def prepare(data_dir: Path, officers: int, partners: int) -> None:
    """A demo store with the load test's accounts (what ``serve --demo`` would seed)."""
    from clic_geo.access.accounts import create_user
    from clic_geo.access.auth import AuthPolicy
    from clic_geo.demo.accounts import sync_demo_accounts
    from clic_geo.demo.seeding import seed_demo
    from clic_geo.settings import load_settings
    from clic_geo.store import Store

    settings = load_settings(data_dir, demo=True)
    store = Store.open(settings)
    if store.is_empty():
        seed_demo(settings, store)
    policy = AuthPolicy.from_settings(settings)
    sync_demo_accounts(settings, store, policy=policy)
    for role, org, n in (
        ("officer", "demo-1clic", officers),
        ("partner", "demo-housing", partners),
    ):
        for i in range(n):
            create_user(
                store,
                f"load-{role}-{i:02d}",
                role=role,
                organisation=org,
                actor="cli",
                password=PASSWORD,
                policy=policy,
            )
    store.close()


class ServerWatch:
    """The server process's CPU seconds and memory, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss_mb = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def hwm_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _loop(self) -> None:
        while not self._stop.wait(0.2):
            with contextlib.suppress(OSError):
                self.peak_rss_mb = max(self.peak_rss_mb, self.hwm_mb())

    def __enter__(self) -> ServerWatch:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


# ----------------------------------------------------------------------- ws sessions


async def ws_officer(url: str, name: str, i: int, go: asyncio.Event, rec: dict) -> None:
    async with StreamlitSession(url) as s:
        rec.setdefault("open sign-in page", []).append((await s.run()).seconds)
        first = s  # the sign-in form arrived
        await go.wait()
        r = await first.sign_in(name, PASSWORD)
        _check(rec, r, "sign-in → map", need_map=True)
        if rec.get("_signin_only"):
            return
        area = r.widgets["Area"][1]
        r = await s.run([s.choose(area, OFFICER_AREAS[i % 4])], until_map=True)
        _check(rec, r, "change area → map", need_map=True)
        r = await s.run(page="plan")
        _check(rec, r, "open Plan page", need_map=False)
        r = await s.run([s.click(r.widgets["Plan the route"][1])])
        _check(rec, r, "plan the route", need_map=False)
        if not any("st_folium" in c for c in r.components):
            rec.setdefault("errors", []).append(f"{name}: no route map")


async def ws_partner(url: str, name: str, i: int, go: asyncio.Event, rec: dict) -> None:
    async with StreamlitSession(url) as s:
        rec.setdefault("open sign-in page", []).append((await s.run()).seconds)
        await go.wait()
        r = await s.sign_in(name, PASSWORD)
        _check(rec, r, "partner sign-in → figures", need_map=False)
        if rec.get("_signin_only"):
            return
        area = r.widgets["Area"][1]
        r = await s.run([s.choose(area, area.options[(i + 1) % len(area.options)])])
        _check(rec, r, "partner change area", need_map=False)


def _check(rec: dict, r: Any, action: str, *, need_map: bool) -> None:
    seconds = r.map_at if need_map and r.map_at is not None else r.seconds
    rec.setdefault(action, []).append(seconds)
    if r.errors:
        rec.setdefault("errors", []).append(f"{action}: {r.errors[0][:120]}")
    if need_map and r.map_at is None:
        rec.setdefault("errors", []).append(f"{action}: no map")


# ------------------------------------------------------------------ browser sessions


async def _idle(page: Any, quiet_s: float = 0.8, timeout_s: float = 180.0) -> float:
    """Wait until the app has stopped running for ``quiet_s``; returns when it stopped."""
    js = (
        "() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
        " return a ? a.getAttribute('data-test-script-state') : null; }"
    )
    deadline = time.perf_counter() + timeout_s
    since = None
    while time.perf_counter() < deadline:
        if await page.evaluate(js) == "notRunning":
            since = since or time.perf_counter()
            if time.perf_counter() - since >= quiet_s:
                return since
        else:
            since = None
        await asyncio.sleep(0.05)
    raise TimeoutError("the app did not become idle")


async def br_session(
    browser: Any, url: str, name: str, i: int, officer: bool, go: asyncio.Event, rec: dict
) -> None:
    ctx = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await ctx.new_page()
    try:
        t0 = time.perf_counter()
        await page.goto(url + "/", wait_until="domcontentloaded", timeout=180_000)
        await page.get_by_role("textbox", name="Username").wait_for(timeout=180_000)
        rec.setdefault("open sign-in page", []).append(time.perf_counter() - t0)
        await go.wait()
        await page.get_by_role("textbox", name="Username").fill(name)
        await page.get_by_role("textbox", name="Password").fill(PASSWORD)
        t0 = time.perf_counter()
        await page.get_by_role("button", name="Sign in").click()
        if officer:
            frame = page.frame_locator(MAP_FRAME)
            await frame.locator(".leaflet-container").first.wait_for(timeout=180_000)
            rec.setdefault("sign-in → map drawn", []).append(time.perf_counter() - t0)
            await _idle(page)
            box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
            await box.click()
            await page.keyboard.type(OFFICER_AREAS[i % 4])
            t0 = time.perf_counter()
            await page.keyboard.press("Enter")
            await asyncio.sleep(0.3)
            rec.setdefault("change area → idle", []).append(await _idle(page) - t0)
            await page.locator('[data-testid="stSidebarNav"] a[href$="/plan"]').click()
            await page.get_by_role("button", name="Plan the route").wait_for(timeout=180_000)
            await _idle(page)
            t0 = time.perf_counter()
            await page.get_by_role("button", name="Plan the route").click()
            await (
                page.frame_locator(MAP_FRAME)
                .last.locator(".leaflet-container")
                .first.wait_for(timeout=180_000)
            )
            rec.setdefault("plan the route → map drawn", []).append(time.perf_counter() - t0)
            if i == 0 and rec.get("_shots"):
                await _idle(page)
                await page.screenshot(path=str(Path(rec["_shots"]) / "load-officer-plan.png"))
        else:
            await page.get_by_role("heading", name="Partnership figures").wait_for(timeout=180_000)
            rec.setdefault("partner sign-in → figures", []).append(time.perf_counter() - t0)
            if i == 0 and rec.get("_shots"):
                await _idle(page)
                await page.screenshot(path=str(Path(rec["_shots"]) / "load-partner.png"))
        await _idle(page)
        body = await page.locator('[data-testid="stAlertContentError"]').all_inner_texts()
        exc = await page.locator('[data-testid="stException"]').count()
        if body or exc:
            rec.setdefault("errors", []).append(f"{name}: {(body or ['exception'])[0][:120]}")
    finally:
        await ctx.close()


# ----------------------------------------------------------------------------- run


async def burst(urls: list[str], args: argparse.Namespace, rec: dict, start_import: Any) -> None:
    go = asyncio.Event()
    names = [(f"load-officer-{i:02d}", i, True) for i in range(args.officers)]
    names += [(f"load-partner-{i:02d}", i, False) for i in range(args.partners)]

    async def guarded(coro: Any, name: str) -> None:
        try:
            await asyncio.wait_for(coro, args.timeout)
        except Exception as exc:  # a session that failed is an error, not a crash
            rec.setdefault("errors", []).append(f"{name}: {exc.__class__.__name__}: {exc}"[:200])

    def url(k: int) -> str:  # sessions spread over the servers, as a load balancer would
        return urls[k % len(urls)]

    if args.client == "ws":
        tasks = [
            guarded((ws_officer if off else ws_partner)(url(k), n, i, go, rec), n)
            for k, (n, i, off) in enumerate(names)
        ]
        runner = asyncio.gather(*tasks)
        await _opened(rec, len(names))
        start_import()
        go.set()
        await runner
        return
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tasks = [
            guarded(br_session(browser, url(k), n, i, off, go, rec), n)
            for k, (n, i, off) in enumerate(names)
        ]
        runner = asyncio.gather(*tasks)
        await _opened(rec, len(names))
        start_import()
        go.set()
        await runner
        await browser.close()


async def _opened(rec: dict, n: int, timeout_s: float = 600) -> None:
    deadline = time.perf_counter() + timeout_s
    while len(rec.get("open sign-in page", [])) + len(rec.get("errors", [])) < n:
        if time.perf_counter() > deadline:
            raise TimeoutError("sessions did not open the sign-in page")
        await asyncio.sleep(0.1)


async def alone(url: str, rounds: int = 3) -> list[float]:
    """The reference: one officer alone, sign-in to map, caches warm."""
    out = []
    for _ in range(rounds):
        async with StreamlitSession(url) as s:
            await s.run()
            r = await s.sign_in("load-officer-00", PASSWORD)
            out.append(r.map_at or float("nan"))
    return out


def summary(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    return {
        "n": len(a),
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "max": float(a.max()),
    }


def run_once(args: argparse.Namespace, data_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    os.environ.update(env)
    prepare(data_dir, args.officers, args.partners)
    big = (
        incidents_csv(data_dir.parent / "import.csv", args.import_rows)
        if args.import_rows
        else None
    )
    rec: dict[str, Any] = {"_signin_only": args.signin_only, "_shots": args.screenshots}
    imp: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        urls = [
            stack.enter_context(serve(data_dir, env=env, log=data_dir.parent / f"server{k}.log"))
            for k in range(args.servers)
        ]
        pids = [_server_pid(u) for u in urls]
        # warm the servers (first run opens the store, imports the page modules)
        ref = [x for u in urls for x in asyncio.run(alone(u))]
        with contextlib.ExitStack() as watches:
            ws = [watches.enter_context(ServerWatch(pid)) for pid in pids]
            cpu0 = sum(w.cpu_s() for w in ws)

            def start_import() -> None:
                if big is None:
                    return
                cmd = [sys.executable, "-m", "clic_geo", "--data-dir", str(data_dir)]
                cmd += ["import", "incidents", str(big), "--json"]
                imp["t0"] = time.perf_counter()
                imp["proc"] = subprocess.Popen(
                    cmd, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
                )

            spy = _profiler(pids[0], args.profile)
            t0 = time.perf_counter()
            asyncio.run(burst(urls, args, rec, start_import))
            wall = time.perf_counter() - t0
            cpu = sum(w.cpu_s() for w in ws) - cpu0
            if spy is not None:
                spy.send_signal(2)  # SIGINT: py-spy writes what it sampled
                spy.wait(timeout=120)
        peak_mb = sum(w.peak_rss_mb for w in ws)
        if "proc" in imp:
            out, err = imp["proc"].communicate(timeout=900)
            imp["seconds"] = time.perf_counter() - imp["t0"]
            imp["returncode"] = imp["proc"].returncode
            imp["report"] = json.loads(out.decode().strip().splitlines()[-1]) if out else None
            imp["overlapped"] = imp["seconds"] > 0 and imp["t0"] - t0 < wall
            if imp["returncode"]:
                rec.setdefault("errors", []).append("import: " + err.decode()[-300:])
            del imp["proc"], imp["t0"]
    sessions = args.officers + args.partners
    actions = {k: summary(v) for k, v in rec.items() if not k.startswith(("errors", "_")) and v}
    signin = next((k for k in ("sign-in → map", "sign-in → map drawn") if k in actions), None)
    return {
        "store": args.store,
        "client": args.client,
        "officers": args.officers,
        "partners": args.partners,
        "import_rows": args.import_rows,
        "actions": actions,
        "errors": rec.get("errors", []),
        "reference_alone_s": float(np.median(ref)),
        "p95_over_alone": actions[signin]["p95"] / float(np.median(ref)) if signin else None,
        "server_cpu_s_per_session": cpu / sessions,
        "servers": args.servers,
        "server_peak_rss_mb": peak_mb,
        "burst_wall_s": wall,
        "import": imp,
    }


def _profiler(pid: int, out: Path | None) -> subprocess.Popen | None:
    """py-spy sampling the server (``pip install py-spy``; a developer's tool only)."""
    if out is None:
        return None
    spy = Path(sys.executable).with_name("py-spy")
    cmd = [str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "50", "--gil"]
    return subprocess.Popen([*cmd, "--output", str(out)], stdout=subprocess.DEVNULL)


def profile_summary(raw: Path, top: int = 40) -> str:
    """Inclusive share of samples per function (of the server's busy samples)."""
    incl: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        total += int(n)
        seen = set()
        for frame in stack.split(";"):
            name = frame.split(" (")[0] + " " + frame.rsplit("/", 1)[-1].rstrip(")")
            if name not in seen:
                seen.add(name)
                incl[name] = incl.get(name, 0) + int(n)
    rows = sorted(incl.items(), key=lambda kv: -kv[1])[:top]
    return "\n".join(f"{100 * n / total:5.1f} %  {name}" for name, n in rows)


def _server_pid(url: str) -> int:
    port = url.rsplit(":", 1)[1]
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True)
    return int(out.stdout.split("pid=", 1)[1].split(",", 1)[0])


def report(res: dict[str, Any]) -> str:
    lines = [
        f"store {res['store']}, client {res['client']}: {res['officers']} officers + "
        f"{res['partners']} partners, import of {res['import_rows']:,} rows during the burst",
        f"{'action':34} {'n':>3} {'p50 s':>7} {'p95 s':>7} {'max s':>7}",
    ]
    for k, v in res["actions"].items():
        lines.append(f"{k:34} {v['n']:>3} {v['p50']:7.2f} {v['p95']:7.2f} {v['max']:7.2f}")
    imp = res["import"]
    lines += [
        f"errors: {len(res['errors'])}"
        + (f" (first: {res['errors'][0]})" if res["errors"] else ""),
        f"one session alone (reference, same run): {res['reference_alone_s']:.2f} s; "
        f"burst p95 / alone: {res['p95_over_alone'] or float('nan'):.1f}",
        f"server ({res['servers']} process(es)): {res['server_cpu_s_per_session']:.2f} CPU-s "
        f"per session, peak memory {res['server_peak_rss_mb']:.0f} MB (sum); "
        f"burst {res['burst_wall_s']:.1f} s",
    ]
    if imp:
        acc = (imp.get("report") or {}).get("accepted")
        lines.append(
            f"import: {imp.get('seconds', 0):.1f} s, exit {imp.get('returncode')}, "
            f"accepted {acc}, overlapped the burst: {imp.get('overlapped')}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--store", choices=["sqlite", "postgis"], default="sqlite")
    p.add_argument("--client", choices=["ws", "browser"], default="ws")
    p.add_argument("--officers", type=int, default=20)
    p.add_argument("--partners", type=int, default=5)
    p.add_argument("--import-rows", type=int, default=100_000)
    p.add_argument("--timeout", type=float, default=600.0, help="per session, seconds")
    p.add_argument("--servers", type=int, default=1, help="dashboard processes on the same store")
    p.add_argument("--json", type=Path, help="also write the figures here")
    p.add_argument("--signin-only", action="store_true", help="only sign in (the target's measure)")
    p.add_argument("--profile", type=Path, help="sample the server with py-spy into this file")
    p.add_argument("--screenshots", type=Path, help="browser client: screenshots go here")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="clic-load-") as tmp:
        data_dir = Path(tmp) / "store"
        if args.store == "postgis":
            from tests.pg import cluster, new_database

            with cluster() as pg:
                res = run_once(args, data_dir, {"CLIC_DATABASE_URL": new_database(pg)})
        else:
            res = run_once(args, data_dir, {})
    print(report(res), flush=True)
    if args.profile:
        print(profile_summary(args.profile), flush=True)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str))
    return res


if __name__ == "__main__":
    main()
