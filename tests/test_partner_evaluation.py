"""What a partner may see of an evaluation: the publication rules on known counts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from clic_geo._errors import ConfigError
from clic_geo.access.isa import IsaScope, Layer
from clic_geo.access.partner_evaluation import EvaluationGrant, publish_evaluation

SCOPE = IsaScope("org", "ISA-1", ("barrow",), (Layer.INCIDENTS_DRUGS,), date(2024, 1, 1), None)


def _grant(last: str = "2025-12") -> EvaluationGrant:
    return EvaluationGrant(
        actor="cli",
        scope=SCOPE,
        area_id="barrow",
        area_name="Barrow",
        layer=Layer.INCIDENTS_DRUGS,
        categories=("drugs",),
        last_month=last,
        threshold=10,
        round_to=5,
    )


def _monthly(treated, buffer, comparison) -> pd.DataFrame:
    months = [str(p) for p in pd.period_range("2025-01", periods=len(treated), freq="M")]
    n = len(treated)
    return pd.DataFrame(
        {
            "month": months,
            "after": np.arange(n) >= n // 2,
            "treated": treated,
            "buffer": buffer,
            "comparison": comparison,
        }
    )


STATS = {
    "effect_pct": -23.46,
    "ci_low_pct": -38.51,
    "ci_high_pct": -4.49,
    "p_value": 0.01734,
    "naive_change_pct": -18.5,
    "wdq": 0.4321,
    "buffer_ci_low_pct": -30.0,
    "buffer_ci_high_pct": 10.0,
    "reasons": [],
    "since_month": "2025-04",
    "treated_zones": 4,
    "buffer_m": 250.0,
    "hotspot_months": ["2025-01"],
}


def test_counts_are_suppressed_rounded_and_the_comparison_is_an_index(store) -> None:
    m = _monthly([23, 31, 12, 17, 18, 21], [4, 12, 3, 11, 13, 2], [410, 390, 402, 380, 377, 391])
    pub = publish_evaluation(store, _grant(), m, STATS, since=date(2025, 4, 1))
    assert list(pub.months["treated"]) == [25, 30, 10, 15, 20, 20]
    assert list(pub.months["treated_label"]) == ["25", "30", "10", "15", "20", "20"]
    labels = list(pub.months["buffer_label"])
    assert labels[0] == labels[2] == labels[5] == "fewer than 10"
    # no buffer count below the threshold can be worked out from a shown total:
    # with 4 and 3 hidden before, the before total (19) or another month is withheld
    tot = pub.totals.set_index(["zone", "side"])
    before = [labels[i] for i in range(3)]
    assert tot.loc[("buffer", "before"), "status"] != "shown" or "withheld" in before
    assert "comparison" not in pub.months and set(pub.totals["zone"]) == {"treated", "buffer"}
    # the index comes from rounded counts: 100 = the rounded before total per month
    base = 65 / 3
    assert pub.months["treated_index"].tolist() == [
        round(x / base * 100) for x in pub.months["treated"]
    ]
    assert pub.months["comparison_index"].notna().all()
    # the numbers: whole per cent, p to two figures, WDQ to one decimal
    assert (pub.effect_pct, pub.ci_low_pct, pub.ci_high_pct) == (-23, -39, -4)
    assert pub.p_value == 0.017 and pub.naive_change_pct == -18
    # the buffer totals stay shown (a month is withheld instead), so the WDQ is published
    assert labels[1] == "withheld" and pub.wdq == 0.4 and pub.buffer_shown
    assert pub.selection_months == ("2025-01",) and pub.can_tell


def test_no_estimate_when_the_treated_totals_are_small(store) -> None:
    m = _monthly([3, 2, 4, 1, 2, 1], [20, 20, 20, 20, 20, 20], [400] * 6)
    pub = publish_evaluation(store, _grant(), m, STATS, since=date(2025, 4, 1))
    assert not pub.can_tell and pub.effect_pct is None and pub.p_value is None
    assert pub.naive_change_pct is None and pub.wdq is None
    assert "few_to_publish" in pub.reasons
    assert set(pub.months["treated_label"]) == {"fewer than 10"}


def test_wdq_published_when_the_buffer_totals_are_shown(store) -> None:
    m = _monthly([23, 31, 12, 17, 18, 21], [14, 12, 13, 11, 13, 12], [410, 390, 402, 380, 377, 391])
    pub = publish_evaluation(store, _grant(), m, STATS, since=date(2025, 4, 1))
    assert pub.wdq == 0.4 and pub.buffer_within_chance is True and pub.buffer_shown


@pytest.mark.parametrize(
    ("last", "first"), [("2025-03", "2025-01"), ("2025-12", "2023-11")], ids=["future", "before"]
)
def test_months_outside_the_grant_are_refused(store, last: str, first: str) -> None:
    m = _monthly([23, 31, 12, 17, 18, 21], [14] * 6, [400] * 6)
    m["month"] = [str(p) for p in pd.period_range(first, periods=6, freq="M")]
    with pytest.raises(ConfigError, match="outside what may be shown"):
        publish_evaluation(store, _grant(last), m, STATS, since=date(2025, 4, 1))


def test_nothing_to_evaluate_publishes_reasons_only(store) -> None:
    empty = pd.DataFrame(columns=["month", "after", "treated", "buffer", "comparison"])
    pub = publish_evaluation(
        store, _grant(), empty, {"reasons": ["no_hotspots"]}, since=date(2025, 4, 1)
    )
    assert pub.reasons == ("no_hotspots",) and not pub.can_tell and pub.months.empty
