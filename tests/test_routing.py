"""The router: optimality against exact solvers, infeasible days, bad rows, invariants."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clic_geo._errors import ConfigError, InputFileError
from clic_geo.geo import crs
from clic_geo.geo.network import StraightLine
from clic_geo.planning.baselines import exact_prize_route, held_karp_path, nearest_neighbour_path
from clic_geo.planning.route_model import DayOptions, InfeasiblePlanError
from clic_geo.planning.routing import plan_route

BASE = (54.114, -3.2268)  # Barrow police station
T0 = datetime(2026, 11, 23, 9, 30)


def make_stops(seed: int, n: int, *, spread_m: float = 1500.0, must=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    e0, n0 = crs.to_bng([BASE[1]], [BASE[0]])
    lon, lat = crs.to_wgs84(
        e0 + rng.uniform(-spread_m, spread_m, n), n0 + rng.uniform(-spread_m, spread_m, n)
    )
    return pd.DataFrame(
        {
            "id": [f"s{i}" for i in range(n)],
            "latitude": lat,
            "longitude": lon,
            "priority": rng.integers(1, 40, n).astype(float),
            "visit_minutes": rng.choice([10.0, 15.0, 20.0], n),
            "must_visit": must if must is not None else False,
        }
    )


def day(minutes: float, **kw) -> DayOptions:
    return DayOptions(BASE[0], BASE[1], T0, minutes, **kw)


def matrix(stops: pd.DataFrame, factor: float = 1.3) -> np.ndarray:
    lats = np.r_[BASE[0], stops["latitude"], BASE[0]]
    lons = np.r_[BASE[1], stops["longitude"], BASE[1]]
    e, n = crs.to_bng(lons, lats)
    return StraightLine(factor).matrix_m(e, n)[0]


@pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed{s}")
def test_ten_stops_within_one_percent_of_held_karp(seed):
    n = 7 + seed % 4  # 7..10 stops, all of which fit
    stops = make_stops(seed, n)
    route = plan_route(stops, day(10_000))
    assert len(route.stops) == n
    optimum, _ = held_karp_path(matrix(stops))
    assert route.total_walk_m <= optimum * 1.01 + 1e-6
    assert route.total_walk_m >= optimum - 1e-6


@pytest.mark.parametrize("seed", range(6), ids=lambda s: f"seed{s}")
def test_prize_collecting_within_one_percent_of_exact(seed):
    """With a binding budget the route's objective is the exact optimum's within 1%."""
    n, budget_min = 10, 120
    stops = make_stops(100 + seed, n)
    route = plan_route(stops, day(budget_min))
    d = matrix(stops)
    per_point = np.ceil(budget_min * 60 * 4.5 / 3.6) + 1  # the router's default scale
    penalty = np.round(stops["priority"].to_numpy() * 100) * per_point
    # the router rounds each leg up to whole seconds: allow it those seconds
    exact, order = exact_prize_route(
        d, 4.5 / 3.6, stops["visit_minutes"].to_numpy() * 60, penalty,
        budget_min * 60 - (n + 2), np.zeros(n, dtype=bool),
    )  # fmt: skip
    visited = {s.id for s in route.stops}
    got = route.total_walk_m + sum(
        p for i, p in zip(stops["id"], penalty, strict=True) if i not in visited
    )
    assert order, "the instance must leave something to choose"
    assert got <= exact * 1.01


@pytest.mark.slow
def test_forty_stops_shorter_than_nearest_neighbour():
    ratios = []
    for seed in range(5):
        stops = make_stops(seed, 40)
        route = plan_route(stops, day(100_000))
        assert len(route.stops) == 40
        assert route.solve_seconds < 5
        nn, _ = nearest_neighbour_path(matrix(stops))
        ratios.append(route.total_walk_m / nn)
    assert np.mean(ratios) <= 0.90, ratios
    assert max(ratios) < 1.0


def test_infeasible_must_visits_say_which_and_by_how_much():
    stops = make_stops(1, 3, must=True)
    with pytest.raises(InfeasiblePlanError, match=r"s0, s1, s2.*minutes over") as info:
        plan_route(stops, day(70))
    err = info.value
    assert set(err.stop_ids) == {"s0", "s1", "s2"}
    need = plan_route(stops, day(10_000)).total_minutes
    assert err.over_minutes == pytest.approx(need - 70, abs=1.0)


def test_a_must_visit_too_far_on_its_own():
    stops = make_stops(2, 2, spread_m=3000).assign(must_visit=[True, False])
    with pytest.raises(InfeasiblePlanError, match=r"s0 alone needs \d+ minutes.*over"):
        plan_route(stops, day(15))


def test_a_must_visit_window_that_closes_too_early():
    stops = make_stops(3, 1, must=True).assign(window_end="09:31")
    with pytest.raises(InfeasiblePlanError, match=r"s0 must be reached by 09:31.*late"):
        plan_route(stops, day(240))


def test_time_windows_are_kept_and_waiting_reported():
    stops = make_stops(4, 4).assign(
        window_start=["11:00", "", "", ""], window_end=["11:20", "", "", ""]
    )
    route = plan_route(stops, day(240))
    s0 = next(s for s in route.stops if s.id == "s0")
    assert datetime(2026, 11, 23, 11, 0) <= s0.arrive_at <= datetime(2026, 11, 23, 11, 20)
    assert route.total_minutes <= 240


def test_duplicate_ids_keep_the_first_and_carry_the_pin():
    stops = make_stops(5, 3)
    dup = pd.concat([stops, stops.iloc[[1]].assign(must_visit=True)], ignore_index=True)
    route = plan_route(dup, day(240))
    (d,) = [x for x in route.dropped if x.code == "duplicate"]
    assert d.id == "s1"
    assert d.row == 4
    assert "row 2" in d.reason
    assert next(s for s in route.stops if s.id == "s1").must_visit


def test_stops_without_coordinates_are_left_out_with_a_reason():
    stops = make_stops(6, 3).astype({"latitude": object})
    stops.loc[1, "latitude"] = ""
    route = plan_route(stops, day(240))
    assert [(d.id, d.code) for d in route.dropped] == [("s1", "no_location")]
    pinned = stops.assign(must_visit=[False, True, False])
    with pytest.raises(InputFileError, match="s1: no coordinates"):
        plan_route(pinned, day(240))


def test_exclusions_pins_and_their_errors():
    stops = make_stops(7, 4)
    route = plan_route(stops, day(240, must_visit=frozenset({"s2"}), exclude=frozenset({"s0"})))
    assert "s0" not in {s.id for s in route.stops}
    assert next(d for d in route.dropped if d.id == "s0").code == "excluded"
    assert next(s for s in route.stops if s.id == "s2").must_visit
    with pytest.raises(ConfigError, match="not among the candidates: zz"):
        plan_route(stops, day(240, must_visit=frozenset({"zz"})))
    with pytest.raises(ConfigError, match="both pinned and excluded: s1"):
        plan_route(stops, day(240, must_visit=frozenset({"s1"}), exclude=frozenset({"s1"})))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"minutes_available": 0}, "minutes available must be positive"),
        ({"walk_speed_kmh": 40.0}, "walking speed"),
        ({"start_lat": 123.0}, "start point"),
    ],
    ids=["no-time", "too-fast", "bad-start"],
)
def test_bad_day_options(change, match):
    with pytest.raises(ConfigError, match=match):
        plan_route(make_stops(8, 2), dataclasses.replace(day(60), **change))


def test_missing_columns_named():
    with pytest.raises(InputFileError, match=r"lacks column.*priority, visit_minutes"):
        plan_route(make_stops(9, 2).drop(columns=["priority", "visit_minutes"]), day(60))


def test_input_not_mutated_and_legs_add_up():
    stops = make_stops(10, 6)
    before = stops.copy()
    route = plan_route(stops, day(90, end_lat=54.12, end_lon=-3.22))
    pd.testing.assert_frame_equal(stops, before)
    assert route.end == (54.12, -3.22)
    legs = sum(s.leg_walk_m for s in route.stops) + route.return_walk_m
    assert route.total_walk_m == pytest.approx(legs)
    walk = route.total_walk_minutes + route.total_visit_minutes + route.total_wait_minutes
    assert route.total_minutes == pytest.approx(walk, abs=0.02)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(0, 7),
    minutes=st.integers(10, 200),
    pins=st.integers(0, 3),
)
def test_route_invariants(seed, n, minutes, pins):
    stops = make_stops(seed, n, must=[i < pins for i in range(n)])
    try:
        route = plan_route(stops, day(minutes, solver_seconds=0.05))
    except InfeasiblePlanError as exc:
        route, blamed = None, exc.stop_ids
    if route is None:  # only must-visits can make a day infeasible
        assert blamed
        assert all(int(s[1:]) < pins for s in blamed)
        return
    visited = [s.id for s in route.stops]
    dropped = [d.id for d in route.dropped]
    assert sorted(visited + dropped) == sorted(stops["id"])  # every candidate accounted for
    assert len(set(visited)) == len(visited)
    assert {f"s{i}" for i in range(min(pins, n))} <= set(visited)  # every must-visit is in
    assert route.total_minutes <= minutes + 1e-9  # never over the budget
    arrivals = [s.arrive_at for s in route.stops]
    assert arrivals == sorted(arrivals)
    assert all(d.reason for d in route.dropped)
