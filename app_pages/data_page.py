"""Data: import files with a validation report, see what the store holds and what was rejected."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from app_pages import common as c
from app_pages import tables
from clic_geo._errors import ClicGeoError
from clic_geo.access.audit import Action
from clic_geo.access.audit_log import record_action
from clic_geo.access.identity import Role
from clic_geo.export import safe_csv_frame, safe_display_frame
from clic_geo.files import private_upload
from clic_geo.ingest.importer import validation_context
from clic_geo.ingest.readers import read_table
from clic_geo.ingest.validate import validate
from clic_geo.reporting import derived_service as derived
from clic_geo.schema import COUNTY_LINES_CATEGORIES

KINDS = {
    "incidents": "Incidents",
    "addresses": "Addresses of concern",
    "visits": "Visits",
    "lines": "County lines",
}


@st.cache_data(show_spinner=False, max_entries=4)
def _month_area(v: int) -> pd.DataFrame:
    """Each incident's id, month and area only (the table below counts them)."""
    cols = ["id", "month", "area_id", "latitude", "longitude"]
    gdf = c.db_retry(c.resources().store.incidents, columns=cols)
    return pd.DataFrame(gdf.drop(columns="geometry"))


user = c.guard(Role.OFFICER, Role.ADMIN)
st.title("Data")
res = c.resources()

st.subheader("Import a file")
st.caption(
    "CSV (UTF-8 or Excel's encoding; comma or semicolon) or XLSX. Column names are matched "
    "to what each kind needs (e.g. date/occurred, type/category, latitude/longitude, easting/"
    "northing or grid reference). Every row is accepted, rejected with its reason, or counted "
    "as a duplicate; one file imports in one go or not at all."
)
with st.form("import_form", clear_on_submit=False):
    cols = st.columns([1, 1, 2])
    kind = cols[0].selectbox(
        "What the file holds", list(KINDS), format_func=KINDS.get, key="imp_kind"
    )
    source = cols[1].text_input(
        "Source system",
        value="local",
        key="imp_source",
        help="Ids are unique within a source; two systems may both number from 1.",
    )
    police = cols[2].checkbox(
        "data.police.uk street-level file",
        key="imp_police",
        help="Published files: month-only dates, crime types mapped to categories.",
    )
    upload = st.file_uploader("File", type=["csv", "xlsx", "txt"], key="imp_file")
    submitted = st.form_submit_button("Import", type="primary")

if submitted:
    if upload is None:
        st.error("Choose a file first.")
    else:
        safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(upload.name).name)[-80:] or "upload.csv"
        progress = st.progress(0, text="Reading the file…")
        try:
            # written owner-only for as long as it is read, then deleted (issue 14)
            with private_upload(
                res.settings.data_dir / "uploads",
                f"{datetime.now():%Y%m%d-%H%M%S}-{safe_name}",
                upload.getvalue(),
            ) as path:
                raw = read_table(path)
            progress.progress(30, text=f"Checking {raw.n_read:,} rows…")
            is_police = police and kind == "incidents"
            ctx = validation_context(
                res.settings,
                areas=res.areas,
                service_area=res.service_area,
                store=res.store if kind in ("visits", "addresses") else None,
            )
            checked = validate(
                raw,
                kind,
                ctx,
                source="police-uk" if is_police else source.strip() or "local",
                police_uk=is_police,
            )
            progress.progress(70, text="Writing to the store…")
            report = res.store.apply_import(
                checked,
                file_name=upload.name,
                file_sha256=raw.sha256,
                source="police-uk" if is_police else source.strip() or "local",
                actor="dashboard",
                blank_rows=raw.blank_rows,
                encoding=raw.encoding,
            )
            progress.progress(100, text="Done.")
            # the hotspot maps and trust tests the pages read: recomputed in the
            # background, so the import returns now
            c.refresh_soon()
            st.session_state["last_import"] = report.to_dict()
            # the import is committed: log it (ids and counts only, never the file's name)
            record_action(
                res.store,
                c.session(),
                Action.IMPORT,
                subject=kind,
                detail={
                    "rows": report.read,
                    "import_id": report.import_id,
                    "file_sha256": raw.sha256[:16],
                },
            )
        except ClicGeoError as exc:
            progress.empty()
            st.error(f"Nothing was imported: {c.md(exc)}")

last = st.session_state.get("last_import")
if last:
    st.markdown("**Validation report**")
    m = st.columns(4)
    m[0].metric("Rows read", f"{last['read']:,}")
    m[1].metric("Accepted", f"{last['accepted']:,}")
    m[2].metric("Rejected", f"{last['rejected']:,}")
    m[3].metric("Duplicates", f"{last['duplicates']:,}")
    if last["reasons"]:
        st.dataframe(
            pd.DataFrame(list(last["reasons"].items()), columns=["Reason", "Rows"]),
            hide_index=True,
            width="stretch",
        )
    if last["rejected"] or last["duplicates"]:
        rej = res.store.rejects(last["import_id"])
        raw_vals = pd.DataFrame([json.loads(x) for x in rej["raw"]])
        shown = pd.concat(
            [rej[["row", "outcome", "reason"]].reset_index(drop=True), raw_vals], axis=1
        )
        st.dataframe(safe_display_frame(shown), hide_index=True, width="stretch", height=260)
        st.download_button(
            "Download the rejected and duplicate rows (CSV)",
            safe_csv_frame(shown).to_csv(index=False).encode("utf-8-sig"),
            file_name=f"rejected-rows-import-{last['import_id']}.csv",
            mime="text/csv",
            key="dl_rejects",
        )
    for note in last.get("notes", []):
        st.caption(f"Note: {c.md(note)}")

st.subheader("What the store holds")
v = c.version()
inc = _month_area(v)
if inc.empty:
    st.info(c.NO_INCIDENTS)
else:
    names = res.areas.names()
    table = (
        inc.assign(Area=inc["area_id"].map(names).fillna("Elsewhere in Cumbria"))
        .pivot_table(index="month", columns="Area", values="id", aggfunc="count", fill_value=0)
        .sort_index(ascending=False)
    )
    st.caption("Incidents by area and month")
    st.dataframe(table.rename_axis("Month"), width="stretch", height=300)
counts = res.store.counts()
cols = st.columns(4)
cols[0].metric("Incidents", f"{counts['incidents']:,}")
cols[1].metric("Addresses of concern", f"{counts['addresses']:,}")
cols[2].metric("Visits", f"{counts['visits']:,}")
cols[3].metric("County lines", f"{counts['county_lines']:,}")
none_yet = [
    KINDS[k].lower()
    for k, table in (("addresses", "addresses"), ("visits", "visits"), ("lines", "county_lines"))
    if not counts[table]
]
if none_yet and not inc.empty:
    st.caption(
        f"No {', '.join(none_yet)} yet: import them above (*What the file holds*) to plan "
        "visits to addresses and to fill the partnership's figures."
    )

st.subheader("How much to trust the hotspot map, on this data")
st.caption(
    "Each past month, the hotspots built from the months before it are compared with where "
    "that month's incidents happened, against simply counting the busiest 100 m squares and "
    "against the street-point count (the spots that had crimes before, busiest first: the "
    "reference a map has to beat). The standard test: hit rate within the best 1 km². "
    "County-lines categories; complete months only."
)
this_month = date.today().strftime("%Y-%m")
rows = []
pending = False
cats = tuple(sorted(COUNTY_LINES_CATEGORIES))
for area_id in [c.ALL, *res.areas.ids]:
    # computed when the data changed (never on this page: it opens at once)
    stored = c.db_retry(
        derived.load_trust, res.store, c._area_arg(area_id), cats, this_month, data_version=v
    )
    t = stored.value if stored is not None else None
    pending = pending or stored is None or stored.stale
    tested = t is not None and t.months_tested > 0
    rows.append(
        {
            "Area": "All Cumbria" if area_id == c.ALL else res.areas.names()[area_id],
            "Months tested": t.months_tested if t is not None else None,
            "Hotspots (median hit rate)": f"{t.ours_median:.0%}" if tested else "-",
            "Counting squares (median)": f"{t.grid_median:.0%}" if tested else "-",
            "Street-point count (median)": f"{t.street_median:.0%}" if tested else "-",
            "Months better / worse": f"{t.months_won} / {t.months_lost}" if tested else "-",
            "In words": t.verdict if t is not None else "Being computed now…",
        }
    )
if pending and not inc.empty:
    c.refresh_soon()
    st.caption(
        "Updating…: some of these were computed before the latest change to the data (or "
        "not yet); they are being recomputed now and show when you next open this page."
    )
st.dataframe(
    safe_display_frame(pd.DataFrame(rows)),
    hide_index=True,
    width="stretch",
    column_config={  # the verdict wraps into its tooltip rather than being cut; every
        # column inside the page at 1366 px (the screenshot test measures it)
        "Area": st.column_config.TextColumn(width=125),
        "Months tested": st.column_config.NumberColumn(width=60, help="Months tested"),
        "Hotspots (median hit rate)": st.column_config.TextColumn(width=100),
        "Counting squares (median)": st.column_config.TextColumn(width=100),
        "Street-point count (median)": st.column_config.TextColumn(
            width=100, help="Counting every spot's crimes of the past months, busiest first"
        ),
        "Months better / worse": st.column_config.TextColumn(width=90),
        "In words": st.column_config.TextColumn(width=250, help="Click a cell to read it all"),
    },
)

st.subheader("Import log")
log = res.store.imports()
if len(log):
    tables.show(
        log,
        {
            "id": "Import",
            "imported_at": "When",
            "kind": "What",
            "file_name": "File",
            "source": "Source",
            "read": "Rows read",
            "accepted": "Accepted",
            "rejected": "Rejected",
            "duplicates": "Duplicates",
        },
    )
