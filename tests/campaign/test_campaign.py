"""Campaign engine: the published RAND case, invariants, determinism and the requirement search."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drawdown.campaign import Axis, holds, required_defenders, simulate
from drawdown.campaign.forces import coefficients
from drawdown.runner import run_campaign
from drawdown.scenario import load_scenario, scenario_from_text

from ..conftest import SCENARIOS

BASE = [Axis("narva_tallinn", "Tallinn", 205, 2.0, 9.2), Axis("pskov_riga", "Riga", 265, 3.4, 13.8)]


def run(data, axes=BASE, seed=1, samples=2000, warning=7.0, days=14):
    return simulate(axes, coefficients(data), np.random.default_rng(seed), samples=samples, days=days,
                    warning_days=warning)


def test_rand_2016_case_reproduces_the_published_36_to_60_hours(data):
    """T1 (anchors.md): with the 2016 posture, Russian forces reach Tallinn and Riga in 36-60 hours.
    The movement efficiency was fitted to this case (docs/validation.md); this test guards the fit."""
    document = run_campaign(load_scenario(SCENARIOS / "rand-2016-baltic.yaml"), data, samples=20_000, seed=0)
    for objective in ("Tallinn", "Riga"):
        assert 36 <= document["time_to_objective_hours"][objective]["p50"] <= 60, document["time_to_objective_hours"]
    assert document["prob_objective_by_day"]["Riga"]["7"] > 0.95  # NATO lost every game
    assert 22 <= document["attacker_units"] <= 30  # RAND: 22 (alt. 27) manoeuvre battalions, plus helicopters


def test_same_seed_same_result_other_seed_other_draws(data):
    a, b, c = run(data, seed=3), run(data, seed=3), run(data, seed=4)
    assert np.array_equal(a.time_to_objective, b.time_to_objective)
    assert not np.array_equal(a.time_to_objective, c.time_to_objective)


@settings(max_examples=25, deadline=None)
@given(st.floats(0, 20), st.floats(0, 20), st.integers(0, 2**31))
def test_more_defenders_never_make_an_objective_fall_sooner(data, extra_tallinn, extra_riga, seed):
    stronger = [Axis(a.id, a.objective, a.length_km, a.defenders_bn_eq + extra, a.attackers_bn_eq)
                for a, extra in zip(BASE, (extra_tallinn, extra_riga))]
    weak, strong = run(data, seed=seed, samples=300), run(data, stronger, seed=seed, samples=300)
    assert (strong.time_to_objective >= weak.time_to_objective).all()


@settings(max_examples=15, deadline=None)
@given(st.floats(0, 30), st.integers(0, 2**31))
def test_earlier_warning_never_hurts(data, more_days, seed):
    short, long = run(data, seed=seed, samples=300, warning=0), run(data, seed=seed, samples=300, warning=more_days)
    assert (long.time_to_objective >= short.time_to_objective).all()


def test_heavier_attack_is_faster_and_no_attack_takes_nothing(data):
    light = run(data)
    heavy = run(data, [Axis(a.id, a.objective, a.length_km, a.defenders_bn_eq, a.attackers_bn_eq * 1.5) for a in BASE])
    assert (heavy.time_to_objective <= light.time_to_objective).all()
    idle = run(data, [Axis(a.id, a.objective, a.length_km, a.defenders_bn_eq, 0.0) for a in BASE])
    assert np.isinf(idle.time_to_objective).all()


def test_removing_us_forces_from_the_baltic_states_never_strengthens_the_defence(data):
    from drawdown.campaign.forces import theatre_forces

    contingency = "contingency: {theatre: baltic, date: 2029-06-30, days: 14}\n"
    header = "start: 2026-01-01\nhorizon: 2030-12-31\nstep: quarter\n"
    status_quo = scenario_from_text("name: sq\n" + header + contingency + "actions: []\n", "sq.yaml")
    exit_ = scenario_from_text("name: ex\n" + header + contingency + textwrap.dedent("""\
        actions:
          - withdraw: {who: USA, from: {groups: [baltic, eastern_flank]}, start: 2026-07-01, by: 2028-12-31}
        """), "ex.yaml")

    def forces(scenario):
        timeline = scenario.timeline(data)
        phase = max(i for i, d in enumerate(timeline.dates) if d <= scenario.parsed.header.contingency.date)
        return theatre_forces(data, scenario.parsed.header.contingency, timeline.at(phase))

    kept, left = forces(status_quo), forces(exit_)
    assert sum(left.defenders_by_country.values()) < sum(kept.defenders_by_country.values())
    for country in ("EST", "LVA", "LTU"):
        assert left.defenders_by_country[country] <= kept.defenders_by_country[country]
    a = simulate(kept.axes, coefficients(data), np.random.default_rng(5), samples=2000, days=14, warning_days=7)
    b = simulate(left.axes, coefficients(data), np.random.default_rng(5), samples=2000, days=14, warning_days=7)
    assert (b.time_to_objective <= a.time_to_objective).all()  # every sample, every axis (Vilnius included)
    assert (b.time_to_objective < a.time_to_objective).any()


def test_an_idle_axis_changes_nothing_on_the_others(data):
    plain = run(data, samples=1000)
    idle = run(data, BASE + [Axis("idle", "Nowhere", 100, 3.0, 0.0)], samples=1000)
    assert np.array_equal(plain.time_to_objective, idle.time_to_objective[:, :2])
    assert np.allclose(plain.defender_losses, idle.defender_losses[:, :2])


def test_percentiles_never_mix_a_time_with_holds():
    from drawdown.campaign import _percentiles

    assert _percentiles(np.array([1.0, 2.0, np.inf])) == {"p10": 1.0, "p50": 2.0, "p90": None}


@pytest.mark.parametrize("contingency,message", [
    ("{theatre: baltic, date: 2026-06-01, add_defenders: {USA: {armd_bn: 10}}}", "defend no axis of baltic"),
    ("{theatre: finland, date: 2026-06-01}", "no attacking force"),
    ("{theatre: baltic, date: 2026-06-01, attacker_presence: 0}", "no attacking force"),
])
def test_contingencies_that_cannot_be_fought_are_clear_errors(data, contingency, message):
    from drawdown.errors import ScenarioError

    text = f"name: c\nstart: 2026-01-01\nhorizon: 2027-01-01\ncontingency: {contingency}\n"
    with pytest.raises(ScenarioError, match=message):
        run_campaign(scenario_from_text(text, "c.yaml"), data, samples=200)


def test_requirement_search_finds_the_smallest_force(data):
    coefs = coefficients(data)
    units = required_defenders(BASE, coefs, seed=11, hold_days=3, probability=0.9, unit_power=1.0, samples=1000,
                               warning_days=7)
    assert units is not None and units > 0

    def share_holding(n):
        weights = np.array([a.attackers_bn_eq for a in BASE]) / sum(a.attackers_bn_eq for a in BASE)
        axes = [Axis(a.id, a.objective, a.length_km, a.defenders_bn_eq + n * w, a.attackers_bn_eq)
                for a, w in zip(BASE, weights)]
        return float(np.mean(holds(simulate(axes, coefs, np.random.default_rng(11), samples=1000, days=3,
                                            warning_days=7), 3)))
    assert share_holding(units) >= 0.9 > share_holding(units - 1)


def test_a_scenario_without_contingency_is_a_clear_error(data):
    from drawdown.errors import ScenarioError

    with pytest.raises(ScenarioError, match="no contingency block"):
        run_campaign(load_scenario(SCENARIOS / "kosovo-exit.yaml"), data, samples=100)


def test_contingency_codes_are_checked(data):
    from drawdown.errors import ScenarioError

    text = ("name: c\nstart: 2026-01-01\nhorizon: 2027-01-01\n"
            "contingency: {theatre: baltic, date: 2026-06-01, add_defenders: {ESTX: {inf_bnn: 1}}}\n")
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text, "c.yaml").timeline(data)
    message = str(caught.value)
    assert "unknown country 'ESTX'" in message and "unknown unit type 'inf_bnn'" in message
    assert "c.yaml:4:" in message
