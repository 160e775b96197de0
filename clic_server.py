"""The dashboard's web server: Streamlit serving ``app.py``, with our hooks.

``clic-geo serve`` runs ``streamlit run clic_server.py``. Streamlit reads this file,
finds the module-level ``app = st.App(...)`` and serves it: ``app.py`` with the
sign-in cookie routes, security headers, gated media and metrics, and the error
handler of :mod:`app_pages.server_hooks` (docs/security.md, "Web server").
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from app_pages.server_hooks import ROUTES, SecurityMiddleware, on_script_error

HERE = Path(__file__).parent

# Streamlit finds the app by reading this file: a module-level ``app = st.App(...)``.
app = st.App(
    str(HERE / "app.py"),
    routes=ROUTES,
    middleware=[Middleware(SecurityMiddleware)],
    on_script_error=on_script_error,
)
