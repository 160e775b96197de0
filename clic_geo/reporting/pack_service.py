"""The meeting pack: one self-contained HTML file for a partnership meeting.

One call, :func:`build_meeting_pack`, writes everything a meeting needs about one
operating area and a run of months into a single HTML page that opens on a laptop
with no network: charts and the map are inline SVG, the style is inline, and the page
carries no script at all (its Content-Security-Policy forbids scripts and any
resource from elsewhere).

Two audiences, two paths:

- **Officers and admins** get the officer view: incidents per month by category,
  the hotspots of the period by trend category (outlines on the map), the
  partnership's figures (:func:`clic_geo.reporting.figures.period_figures`) and a before/after
  comparison. Hotspots are described by rank, trend, size and count; no incident,
  address or visit is listed.
- **Partners** (or an officer previewing an organisation's view) get exactly what
  the partner page shows, from the same functions:
  :func:`clic_geo.access.privacy.partner_area_table`
  and :func:`clic_geo.access.privacy.partner_grid` (counts only, inside the organisation's
  ISA scope, small numbers suppressed). Everything in a partner pack, including the
  before/after comparison, is computed from those published figures alone, so the
  pack says nothing the partner page does not. Hotspot outlines are not shared
  with partners (the partner page does not show them); the 250 m squares are.

Every export is written to the audit log (who, area, months, audience; never a value).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

import pandas as pd

from clic_geo._errors import ConfigError
from clic_geo.access.audit import Action, record
from clic_geo.access.auth import require_role, validate_session
from clic_geo.access.identity import Role, Session, User
from clic_geo.access.isa import get_isa_scope
from clic_geo.access.privacy import partner_area_table
from clic_geo.geo.areas import load_areas
from clic_geo.reporting.pack_views import MeetingPackRequest, _officer_body, _partner_body
from clic_geo.reporting.svg import _e
from clic_geo.settings import Settings
from clic_geo.store import Store

__all__ = ["build_meeting_pack"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;margin:1.5rem auto;
max-width:60rem;color:#222;line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #ccc;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:.9rem}.marking{font-weight:bold;letter-spacing:.05em}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.legend i{display:inline-block;width:.9rem;height:.9rem;margin-right:.3rem;
vertical-align:middle;border:1px solid #666}
svg{max-width:100%;height:auto}
@media print{h2{page-break-before:auto}svg{page-break-inside:avoid}}
"""


# ------------------------------------------------------------------ the request


def _month(value: str | date, what: str) -> str:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}", value.strip()):
        raise ConfigError(f"{what}: expected a month YYYY-MM, got {value[:20]!r}")
    try:
        return str(pd.Period(value, freq="M"))
    except (ValueError, TypeError):
        raise ConfigError(f"{what}: expected a month YYYY-MM, got {str(value)[:20]!r}") from None


def _request(
    area: str, start: str | date, end: str | date, since: date | None, organisation: str | None
) -> MeetingPackRequest:
    first, last = _month(start, "start"), _month(end, "end")
    if last < first:
        raise ConfigError(f"the period ends ({last}) before it starts ({first})")
    return MeetingPackRequest(area, first, last, since, organisation)


# ------------------------------------------------------------------ the pack


def _audience(
    store: Store, session: Session | Literal["cli"], organisation: str | None, now: datetime | None
) -> tuple[User | str, bool]:
    """(who asks, partner view?) A partner always gets the partner view."""
    if session == "cli":
        return "cli", organisation is not None
    if not isinstance(session, Session):
        raise ConfigError("build_meeting_pack needs a session or 'cli'")
    user = validate_session(store, session, now=now)
    if user.role == Role.PARTNER:
        return user, True
    if organisation is None:
        require_role(store, user, Role.OFFICER, Role.ADMIN, action=Action.EXPORT, now=now)
    return user, organisation is not None


def build_meeting_pack(
    store: Store,
    session: Session | Literal["cli"],
    *,
    settings: Settings,
    area: str,
    start: str | date,
    end: str | date,
    since: date | None = None,
    organisation: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
    n_simulations: int = 99,
) -> str:
    """One self-contained HTML page for a partnership meeting about one area.

    Parameters
    ----------
    store : Store
        The store.
    session : Session or "cli"
        Who asks. A partner's session always gets the partner view of their own
        organisation. An officer's or admin's gets the officer view, or with
        ``organisation`` exactly that organisation's partner view. ``"cli"`` is the
        command line (the machine's operator), treated as an officer.
    settings : Settings
        The installation's settings (areas, suppression threshold).
    area : str
        Operating area id.
    start, end : str or date
        First and last month (``"2026-01"``), inclusive.
    since : date, optional
        Compare the months before this date with those from it on.
    organisation : str, optional
        A partner organisation whose view to build (its ISA scope applies).
    today : date, optional
        For the partner figures: months count once complete before this date's month.
    n_simulations : int
        Monte Carlo runs for the hotspots' significance (officer view).

    Returns
    -------
    str
        The HTML page (UTF-8 text): no script, no external resource.

    Raises
    ------
    PermissionDeniedError
        An area outside the partner's scope, another organisation's view, or a role
        that may not export.
    ConfigError, NotFoundError
        Malformed months, an unknown area or organisation.
    """
    req = _request(area, start, end, since, organisation)
    who, partner = _audience(store, session, organisation, now)
    if partner and who == "cli" and get_isa_scope(store, organisation or "") is None:
        raise ConfigError(f"organisation {organisation!r} has no ISA scope")
    areas = load_areas(settings.areas_dir)
    if partner:
        # the privacy layer checks the area against the scope first (refusing and
        # logging anything outside it), before the area's outline is looked up
        a = areas.get(area) if area in areas else None
        if a is None:
            partner_area_table(
                store,
                session,
                settings=settings,
                areas=[area],
                organisation=req.organisation,
                today=today,
                now=now,
            )
            a = areas.get(area)
        body, reference = _partner_body(store, session, settings, a, req, today=today, now=now)
        org_name = (
            who.organisation_name
            if isinstance(who, User) and who.role == Role.PARTNER
            else req.organisation
        )
        heading = f"Partnership figures for {org_name}"
        marking = f"Shared under {reference}. Counts only."
    else:
        a = areas.get(area)
        body = _officer_body(store, settings, a, req, n_simulations=n_simulations)
        heading = "1-CLIC partnership meeting pack"
        marking = "OFFICIAL-SENSITIVE. For the partnership meeting; do not forward."
    period = f"{req.start:%d %b %Y} to {req.end:%d %b %Y}"
    made = (now or datetime.now()).strftime("%d %b %Y %H:%M")
    demo = store.get_meta("demo_today") is not None
    page = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(a.name)}: meeting pack, {_e(period)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f'<p class="marking">{_e(marking)}</p>',
        f"<h1>{_e(heading)}: {_e(a.name)}</h1>",
        f'<p class="note">{_e(period)}. Made {_e(made)} by clic-geo.</p>',
    ]
    if demo:
        page.append(
            '<p class="note"><strong>Demo data.</strong> Every incident, address and visit '
            "behind these figures is fictional.</p>"
        )
    page += [body, "</body></html>"]
    record(
        store,
        Action.EXPORT,
        actor=who,
        area_id=a.id,
        subject="meeting_pack",
        detail={
            "format": "html",
            "from": req.first_month,
            "to": req.last_month,
            "organisation": (
                who.organisation_id
                if isinstance(who, User) and who.role == Role.PARTNER
                else req.organisation
            ),
            "kind": "partner" if partner else "officer",
        },
        now=now,
    )
    return "\n".join(page)
