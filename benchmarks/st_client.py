"""A Streamlit client at the websocket level: what a browser tab sends, without a browser.

Speaks Streamlit's own protocol (protobuf ``BackMsg``/``ForwardMsg`` over
``/_stcore/stream``): asks for a run with widget values, reads the elements the script
sends back, finds widgets by their label and answers with new values, as the frontend
does. Used by ``benchmarks/bench_load.py`` and its small CI version
(``tests/test_load.py``) to time many sessions at once, measured from the moment a
request leaves to the moment the server's answer (e.g. the map) arrives: server time
plus the loopback, none of a browser's drawing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

__all__ = ["RunResult", "StreamlitSession"]

MAP_COMPONENT = "st_folium"


@dataclass
class RunResult:
    """What one run of the script sent back."""

    seconds: float
    widgets: dict[str, Any] = field(default_factory=dict)  # label -> element proto
    components: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # markdown, errors, captions
    errors: list[str] = field(default_factory=list)  # st.error / st.exception bodies
    map_at: float | None = None  # seconds until the map component arrived
    status: str = ""
    pages: dict[str, str] = field(default_factory=dict)  # url path -> page script hash


_WIDGET_TYPES = {
    "text_input",
    "button",
    "selectbox",
    "date_input",
    "checkbox",
    "multiselect",
    "button_group",
    "radio",
    "number_input",
    "time_input",
    "slider",
}


class StreamlitSession:
    """One browser tab's session on a Streamlit server."""

    def __init__(self, base_url: str, *, timeout_s: float = 120.0) -> None:
        self.ws_url = base_url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.timeout_s = timeout_s
        self.ws: Any = None
        self.page_hash = ""
        self.pages: dict[str, str] = {}

    async def __aenter__(self) -> StreamlitSession:
        self.ws = await websockets.connect(
            self.ws_url,
            max_size=None,
            open_timeout=self.timeout_s,
            compression=None,
            ping_interval=None,  # as a browser: the server may be too busy to answer pings
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def run(
        self,
        widgets: list[Any] | None = None,
        *,
        page: str | None = None,
        until_map: bool = False,
    ) -> RunResult:
        """Ask for a run with these widget states; wait until the script has finished
        (and, with ``until_map``, until a run has sent the map).

        A sign-in or a page switch reruns the script by itself (``st.rerun``): this waits
        through those reruns, up to the one that finishes without asking for another.
        """
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = ""
        cs.page_script_hash = self.pages.get(page, "") if page else self.page_hash
        for w in widgets or []:
            cs.widget_states.widgets.append(w)
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        out = RunResult(seconds=0.0)
        deadline = t0 + self.timeout_s
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), max(0.1, deadline - time.perf_counter()))
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = fm.new_session.page_script_hash or self.page_hash
            elif kind == "navigation":
                self.page_hash = fm.navigation.page_script_hash
                for p in fm.navigation.app_pages:
                    self.pages[p.url_pathname] = p.page_script_hash
                out.pages = dict(self.pages)
            elif kind == "page_info_changed":
                pass
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                self._element(fm.delta.new_element, out, t0)
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fm.script_finished)
                out.status = status
                if status == "FINISHED_EARLY_FOR_RERUN":
                    out.widgets.clear()
                    continue
                if until_map and out.map_at is None and status == "FINISHED_SUCCESSFULLY":
                    continue  # st_folium's own rerun, or a redirect, is still to come
                out.seconds = time.perf_counter() - t0
                return out

    def _element(self, el: Any, out: RunResult, t0: float) -> None:
        kind = el.WhichOneof("type")
        if kind in _WIDGET_TYPES:
            w = getattr(el, kind)
            label = getattr(w, "label", "") or getattr(w, "id", "")
            out.widgets[label] = (kind, w)
        elif kind == "component_instance":
            out.components.append(el.component_instance.component_name)
            if MAP_COMPONENT in el.component_instance.component_name and out.map_at is None:
                out.map_at = time.perf_counter() - t0
        elif kind == "alert" and el.alert.format == 1:  # ERROR
            out.errors.append(el.alert.body)
        elif kind == "exception":
            out.errors.append(f"{el.exception.type}: {el.exception.message}")
        elif kind == "markdown":
            out.texts.append(el.markdown.body)

    # widget values, as the frontend sends them ---------------------------------------

    @staticmethod
    def text(widget: Any, value: str) -> Any:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        s = WidgetState(id=widget.id)
        s.string_value = value
        return s

    @staticmethod
    def click(widget: Any) -> Any:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        s = WidgetState(id=widget.id)
        s.trigger_value = True
        return s

    @staticmethod
    def choose(widget: Any, option: str) -> Any:
        """A selectbox's choice, by its shown text."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        if option not in widget.options:
            raise ValueError(f"{option!r} is not one of {list(widget.options)}")
        s = WidgetState(id=widget.id)
        s.string_value = option
        return s

    async def sign_in(self, username: str, password: str) -> RunResult:
        """Open the app, fill the sign-in form and submit it; returns the run after it
        (for an officer: the Map page, waited for until the map has arrived)."""
        first = await self.run()
        user = first.widgets["Username"][1]
        pwd = first.widgets["Password"][1]
        submit = first.widgets["Sign in"][1]
        return await self.run(
            [self.text(user, username), self.text(pwd, password), self.click(submit)],
            until_map=not username.startswith(("partner", "demo-housing", "demo-nhs")),
        )
