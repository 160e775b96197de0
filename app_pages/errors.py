"""One handler for any error a page did not handle.

The traceback and a reference id go to the server log; the browser gets one line
with the reference id and nothing else (no exception type, message, path or SQL).
Used around every page by ``app.py`` and, for errors in widget callbacks, by the
server (``clic_server.on_script_error``). ``clic-geo serve`` also turns Streamlit's
own error details off (``client.showErrorDetails = none``).
"""

from __future__ import annotations

import logging
import uuid

import streamlit as st

log = logging.getLogger("clic_geo.app")

MESSAGE = "Something went wrong on this page. If it keeps happening, give this reference: {ref}"


def report_error(exc: BaseException) -> str:
    """Log ``exc`` with a new reference id, show one friendly line; returns the id."""
    ref = uuid.uuid4().hex[:8].upper()
    log.error("error on a page, reference %s", ref, exc_info=exc)
    try:
        st.error(MESSAGE.format(ref=ref))
    except Exception:  # nothing more may reach the browser
        log.exception("could not show the error line, reference %s", ref)
    return ref
