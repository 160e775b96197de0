"""``clic-geo serve``: start the dashboard."""

from __future__ import annotations

import argparse
import os
import sys

from clic_geo._errors import ConfigError
from clic_geo.cli._refresh import run_refresh, summary
from clic_geo.demo.seeding import seed_demo
from clic_geo.settings import REPO_ROOT, load_settings
from clic_geo.store import Store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="start the dashboard (Streamlit)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument(
        "--address", default="127.0.0.1", help="interface to listen on (default: this machine only)"
    )
    p.add_argument(
        "--demo",
        action="store_true",
        help="demo mode: seed demo data on first start and create demo accounts",
    )
    p.set_defaults(func=_run)


def streamlit_command(port: int, address: str) -> list[str]:
    """The command that serves the app, with static files (map assets) served locally.

    It runs ``clic_server.py`` (Streamlit's server with our sign-in cookie routes and
    security headers, around ``app.py``), with Streamlit's error details off: a page
    error shows one line with a reference id, the traceback goes to the server log.
    """
    for name in ("app.py", "clic_server.py"):
        if not (REPO_ROOT / name).exists():
            raise ConfigError(
                f"the dashboard needs the clic-geo checkout: {REPO_ROOT / name} is missing"
            )
    app = REPO_ROOT / "clic_server.py"
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--server.enableStaticServing",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        # no traceback, exception type or message in any browser (docs/security.md)
        "--client.showErrorDetails",
        "none",
        # Streamlit forces a full garbage collection after every script run, holding the
        # GIL: with 20 sessions signing in at once it was 81 % of the server's Python time
        # (benchmarks/bench_load.py, py-spy --gil). Python's own collector still runs.
        "--runner.postScriptGC",
        "false",
    ]


def _run(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.data_dir:
        env["CLIC_DATA_DIR"] = args.data_dir
    if args.demo:
        env["CLIC_DEMO"] = "1"
        # seed before the server starts, so the first person to open the page waits for
        # nothing (the app would otherwise seed on its first run)
        settings = load_settings(args.data_dir, demo=True)
        store = Store.open(settings)
        try:
            if store.is_empty():
                print("first start: preparing the demo data (about 15 seconds)…", flush=True)
                for r in seed_demo(settings, store):
                    print(f"  {r.kind}: {r.accepted} rows", flush=True)
                print("  " + summary(run_refresh(settings, store)), flush=True)
        finally:
            store.close()
    cmd = streamlit_command(args.port, args.address)
    print(f"clic-geo dashboard: http://{args.address}:{args.port}", flush=True)
    # become the server (no child left behind when this process is stopped)
    os.chdir(REPO_ROOT)
    os.execve(cmd[0], cmd, env)  # noqa: S606 - our own interpreter, fixed arguments
    return 0  # pragma: no cover - execve does not return
