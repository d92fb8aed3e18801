"""The cost model: constant dollars, price ranges, running-cost rule, and the two published studies reproduced
within ±15 % (anchors T4 and T6) when fed their own assumptions."""

from __future__ import annotations

import pandas as pd
import pytest

from drawdown.cost import CostBook, cost_additions
from drawdown.runner import run_cost
from drawdown.scenario import load_scenario


def within(value: float, target: float, tolerance: float = 0.15) -> bool:
    return abs(value - target) <= tolerance * target


@pytest.fixture(scope="module")
def book(data) -> CostBook:
    return CostBook.from_parameters(data)


def test_constant_dollars(book):
    assert book.base_year == 2024
    assert book.to_base(100.0, 2024) == pytest.approx(100.0)
    older = [book.to_base(100.0, year) for year in range(2015, 2025)]
    assert all(a >= b for a, b in zip(older, older[1:]))  # older dollars are worth more today
    assert older[0] > 120  # about 29 % inflation 2015-2024 (GDP deflator)


def test_every_price_range_brackets_its_central_figure(book, data):
    for item in data.tables["equipment_costs"]["item"].unique():
        cost = book.equipment(item)
        assert cost.acquisition.low <= cost.acquisition.mid <= cost.acquisition.high
    for unit_type in book.priced_unit_types():
        cost = book.unit(unit_type)
        assert cost.acquisition.low <= cost.acquisition.mid <= cost.acquisition.high
        assert cost.annual.mid > 0


def test_running_cost_rule_where_no_source(book):
    cost = book.unit("patriot_bn")  # no sourced yearly cost
    assert cost.annual.basis.startswith("rule")
    expected = 600 * book.personnel_usd_per_troop / 1e6 + book.om_share * cost.acquisition.mid
    assert cost.annual.mid == pytest.approx(expected)
    assert not book.unit("abct").annual.basis.startswith("rule")  # a sourced yearly cost wins over the rule


def test_unknown_items_are_clear_errors(book):
    from drawdown.errors import DrawdownError

    with pytest.raises(DrawdownError, match="did you mean|priced types|unknown"):
        book.equipment("f35")
    with pytest.raises(DrawdownError, match="no acquisition cost"):
        book.unit("support")


def test_additions_bill_acquisition_once_and_running_every_year(book):
    additions = pd.DataFrame([{"nation": "DEU", "unit_type": "mech_bde", "year": 2027, "units": 2.0}])
    bill = cost_additions(additions, book, [2026, 2027, 2028, 2029])
    unit = book.unit("mech_bde")
    assert bill.loc[bill["year"] == 2026, "total_usd_m"].item() == 0
    assert bill["acquisition_usd_m"].sum() == pytest.approx(2 * unit.acquisition.mid)
    assert bill["running_usd_m"].sum() == pytest.approx(3 * 2 * unit.annual.mid)


def test_iiss_2025_reproduced(data):
    """T4: acquisition US$226-344 bn and about US$1 trillion over a 25-year life cycle."""
    buy = run_cost(load_scenario("scenarios/iiss-2025-cost.yaml"), data)["buylist"]
    acquisition = buy["acquisition_usd_m"]["mid"] / 1000
    assert 226 * 0.85 <= acquisition <= 344 * 1.15
    life = buy["life_cycle_usd_m"]["mid"] / 1000
    assert within(life, 1000)
    low, high = buy["acquisition_usd_m"]["low"] / 1000, buy["acquisition_usd_m"]["high"] / 1000
    assert low < 226 and high > 344 * 0.85  # the sourced price range spans the study's
    assert buy["personnel"] == 128000 and buy["life_cycle_years"] == 25


def test_bruegel_kiel_2025_reproduced(data):
    """T6: about 300,000 troops, about 50 brigades, about EUR 250 bn a year."""
    buy = run_cost(load_scenario("scenarios/bruegel-2025-cost.yaml"), data)["buylist"]
    assert within(buy["personnel"], 300_000)
    assert buy["personnel_from_us_presence"] > 60_000  # the US troops in Europe come from the data
    assert within(buy["brigades"], 50)
    assert within(buy["spending_gap"]["annual_eur_m"] / 1000, 250)


def test_scenario_additions_are_costed_per_nation_and_year(data):
    document = run_cost(load_scenario("scenarios/germany-roadmap.yaml"), data)
    adds = document["additions"]
    assert adds["total_usd_m"] > 0
    total = sum(v["total_usd_m"] for years in adds["by_nation_year"].values() for v in years.values())
    assert total == pytest.approx(adds["total_usd_m"], rel=1e-3)
    deu = adds["by_nation_year"]["DEU"]
    assert all(v["pct_gdp"] >= 0 for v in deu.values())
    assert "buylist" not in document


def test_cost_block_errors_name_line_and_field(tmp_path, data):
    from drawdown.errors import ScenarioError

    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nstart: 2026-01-01\nhorizon: 2026-12-31\ncost:\n  items:\n"
                    "    - {equipment: f35, count: 10}\n    - {unit_type: fighter_sq, count: 1}\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path).timeline(data)
    text = str(info.value)
    assert "bad.yaml:6" in text and "f35a" in text
    assert "bad.yaml:7" in text and "fighter_sqn" in text
