"""Force balance: totals, categories, eastern flank and spending lines, with invariants."""

from __future__ import annotations

import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from drawdown.balance import CATEGORIES, compute_balance
from drawdown.scenario import load_scenario, scenario_from_text

from ..conftest import SCENARIOS


def run_text(data, body: str):
    text = "name: b\nstart: 2026-01-01\nhorizon: 2030-12-31\nstep: quarter\n" + textwrap.dedent(body)
    return scenario_from_text(text, "b.yaml").run(data)


def test_withdrawn_by_category_adds_up(data):
    result = load_scenario(SCENARIOS / "post-1990-exit.yaml").run(data)
    totals = result.balance.withdrawn_totals()
    assert set(totals) == set(CATEGORIES)
    withdrawn = result.timeline.withdrawals.query("owner == 'USA' and reason == 'withdrawn'")
    assert sum(totals.values()) == withdrawn["personnel"].sum() > 0
    # US totals fall by what was withdrawn (no other US change in this scenario besides scheduled data changes)
    series = result.balance.totals()
    scheduled = result.timeline.withdrawals.query("owner == 'USA' and reason == 'scheduled'")["personnel"].sum()
    arrived = result.timeline.ledger.query("owner == 'USA'")["scheduled_in"].max()
    assert series.iloc[0] - series.iloc[-1] == sum(totals.values()) + scheduled - arrived


def test_post_1990_group_is_empty_at_the_end_and_flank_falls(data):
    result = load_scenario(SCENARIOS / "post-1990-exit.yaml").run(data)
    groups = result.balance.troops_by_group
    last = groups["phase"].max()
    assert groups.query("group == 'post_1990' and phase == @last")["personnel"].item() == 0
    assert groups.query("group == 'post_1990' and phase == 0")["personnel"].item() > 0
    flank = result.balance.eastern_flank.query("owner == 'USA'").set_index("phase")["personnel"]
    flank = flank.reindex(range(last + 1), fill_value=0)
    assert flank.is_monotonic_decreasing and flank.iloc[-1] == 0


def test_spending_lines_and_their_override(data):
    base = run_text(data, "actions: []\n").balance.spending.set_index("iso3")
    assert bool(base.loc["POL", "meets_core"]) and bool(base.loc["POL", "meets_low"])
    assert not bool(base.loc["BEL", "meets_core"])
    assert base.loc["POL", "gap_core_usd_m"] == 0
    assert base.loc["ITA", "gap_core_usd_m"] > 0
    lowered = run_text(data, "actions:\n  - set: {path: balance.spending_line_core, value: 1.0}\n").balance
    assert lowered.lines["core"] == 1.0
    assert lowered.spending["meets_core"].sum() > base["meets_core"].sum()


@settings(max_examples=15, deadline=None)
@given(st.sets(st.sampled_from(["POL", "LTU", "EST", "LVA", "ROU", "BGR", "HUN", "SVK"]), min_size=1),
       st.sampled_from(["2026-06-30", "2027-12-31", "2030-12-31"]))
def test_removing_us_forces_never_strengthens_the_flank(data, countries, by):
    """Withdrawing US forces from eastern-flank nations can only lower US troops and power there, every phase."""
    columns = ["personnel", "power_bn_eq"]
    base = run_text(data, "actions: []\n").balance.eastern_flank.query("owner == 'USA'").set_index("phase")[columns]
    codes = ", ".join(sorted(countries))
    cut = run_text(data, f"actions:\n  - withdraw: {{who: USA, from: [{codes}], by: {by}}}\n").balance
    cut = cut.eastern_flank.query("owner == 'USA'").set_index("phase")[columns].reindex(base.index, fill_value=0)
    assert (cut["personnel"] <= base["personnel"]).all()
    assert (cut["power_bn_eq"] <= base["power_bn_eq"] + 1e-9).all()
    assert cut["personnel"].iloc[-1] < base["personnel"].iloc[-1]


def test_power_is_only_summed_within_one_unit(data):
    result = load_scenario(SCENARIOS / "status-quo.yaml").run(data)
    power = result.balance.power_by_category
    assert not power.duplicated(["phase", "country", "category", "power_unit"]).any()
    assert set(power.query("category == 'manoeuvre'")["power_unit"]) == {"bn_eq"}
    balance = compute_balance(result.timeline, data, owner="DEU")
    assert balance.troops_by_country.query("country == 'LTU'")["personnel"].max() > 0
