"""The partnership's figures on tiny data with known answers."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from clic_geo.reporting import figures


def _incidents() -> pd.DataFrame:
    rows = [
        ("2024-01-05", "barrow", "threat_to_life"),
        ("2024-01-20", "barrow", "drug_supply"),
        ("2024-02-03", "kendal", "drug_supply"),
        ("2024-03-10", "barrow", "threat_to_life"),
    ]
    df = pd.DataFrame(rows, columns=["occurred_at", "area_id", "category"])
    df["occurred_at"] = pd.to_datetime(df["occurred_at"])
    df["month"] = df["occurred_at"].dt.strftime("%Y-%m")
    return df


def _visits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "visited_at": pd.to_datetime(["2024-01-10", "2024-01-11", "2024-02-01", "2024-04-01"]),
            "area_id": ["barrow", "barrow", "barrow", "barrow"],
            "address_id": ["a1", "a1", None, "a2"],
            "outcome": ["engaged", "no_answer", "engaged", "engaged"],
            "support": [
                ("calling_card", "referral"),
                ("calling_card",),
                (),
                ("harm_reduction_kit",),
            ],
            "referrals": [("food_bank", "housing"), (), (), ()],
        }
    )


def _lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line_id": ["L1", "L1", "L2"],
            "since": pd.to_datetime(["2023-06-01", "2024-02-15", "2024-01-10"]),
            "status": ["active", "disrupted", "active"],
            "area_id": ["barrow", "barrow", "kendal"],
        }
    )


def test_period_figures_for_one_area() -> None:
    addresses = pd.DataFrame({"id": ["a1", "a2"], "area_id": ["barrow", "barrow"]})
    history = pd.DataFrame(
        {
            "address_id": ["a1", "a1", "a2"],
            "since": pd.to_datetime(["2023-12-01", "2024-02-20", "2024-01-05"]),
            "status": ["confirmed", "resolved", "confirmed"],
        }
    )
    hardening = pd.DataFrame(
        {
            "address_id": ["a1", "a2", "a2"],
            "measure": ["spy_hole", "cctv", "cctv"],
            "fitted_on": ["2024-01-15", "", "2023-05-01"],
        }
    )
    f = figures.period_figures(
        start=date(2024, 1, 1),
        end=date(2024, 2, 29),
        area="barrow",
        incidents=_incidents(),
        visits=_visits(),
        addresses=addresses,
        status_history=history,
        hardening=hardening,
        lines=_lines(),
    )
    assert (f.visits, f.addresses_visited, f.visits_engaged) == (3, 1, 2)
    assert f.referrals_total == 2 and f.referrals["food_bank"] == 1 and f.referrals["housing"] == 1
    assert f.support["calling_card"] == 2 and f.support["referral"] == 1
    assert (
        f.hardening["spy_hole"] == 1 and f.hardening["cctv"] == 0
    )  # undated or earlier: not counted
    assert (f.active_lines_start, f.active_lines_end, f.lines_disrupted) == (1, 0, 1)
    assert f.threats_to_life == 1 and f.incidents == 2
    assert f.cuckooing_confirmed_open == 1  # a1 resolved in February, a2 still confirmed
    labels = [label for _, label, _ in f.as_rows()]
    assert "Vulnerability visits" in labels and "Food bank" in labels


def test_all_areas_and_lines_over_time() -> None:
    f = figures.period_figures(
        start=date(2024, 1, 1),
        end=date(2024, 3, 31),
        area=None,
        incidents=_incidents(),
        visits=_visits(),
        addresses=pd.DataFrame({"id": [], "area_id": []}),
        status_history=pd.DataFrame({"address_id": [], "since": pd.to_datetime([]), "status": []}),
        hardening=pd.DataFrame({"address_id": [], "measure": [], "fitted_on": []}),
        lines=_lines(),
    )
    assert f.incidents == 4 and f.threats_to_life == 2
    assert (f.active_lines_start, f.active_lines_end) == (1, 1)
    series = figures.active_lines_series(_lines(), ["2023-12", "2024-01", "2024-02"])
    assert series["active"].tolist() == [1, 2, 1]


@pytest.mark.parametrize("window", [None, 1])
def test_before_after(window) -> None:
    monthly = pd.DataFrame(
        {
            "month": ["2024-01", "2024-02", "2024-03", "2024-04"],
            "category": ["x"] * 4,
            "n": [2, 0, 1, 0],
        }
    )
    ba = figures.before_after(monthly, "2024-02", window_months=window)
    row = ba.table.iloc[0]
    assert row["before_per_month"] == pytest.approx(2.0)
    assert ba.months_before == 1
    if window is None:
        assert ba.months_after == 3 and row["after_per_month"] == pytest.approx(1 / 3, abs=0.01)
        assert row["change_pct"] == pytest.approx(-83.3, abs=0.1)
    else:
        assert ba.months_after == 1 and row["after_per_month"] == 0.0


def test_monthly_counts_fill_gaps() -> None:
    out = figures.monthly_counts(_incidents())
    assert out["month"].unique().tolist() == ["2024-01", "2024-02", "2024-03"]
    tl = out[out["category"] == "threat_to_life"].set_index("month")["n"].to_dict()
    assert tl == {"2024-01": 1, "2024-02": 0, "2024-03": 1}
