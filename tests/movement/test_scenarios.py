"""Movement on the bundled data: the published validation cases, every bundled scenario, the CLI and its errors."""

from __future__ import annotations

import datetime as dt
import json
import textwrap

import pytest

from drawdown.errors import ScenarioError
from drawdown.movement import lift_data, simulate
from drawdown.movement.requests import moves_from_scenario
from drawdown.runner import run_movement
from drawdown.scenario import load_scenario, scenario_from_text

from ..conftest import SCENARIOS, bundled_scenarios
from ..test_cli import drawdown


def days_after(stamp: str, start: dt.date) -> float:
    when = dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M")
    return (when - dt.datetime.combine(start, dt.time())).total_seconds() / 86400


def document(data, name, **kw):
    return run_movement(load_scenario(SCENARIOS / f"{name}.yaml"), data, **kw)


def test_82nd_airborne_reaches_poland_within_days(data):
    """Feb 2022: ordered on the 2nd and the 11th, the two tranches were landing within days (us_forces.md)."""
    moves = document(data, "move-82nd-2022")["movements"]
    assert len(moves) == 2
    for move, ordered in zip(moves, (dt.date(2022, 2, 2), dt.date(2022, 2, 11))):
        assert move["modes"] == ["air"]
        assert 0.75 <= days_after(move["arrival"], ordered) <= 7  # 18 h readiness, then flights


def test_stryker_brigade_by_air_takes_5_to_14_days(data):
    """GAO-03-801: 5-14 days by air, with a third of the C-17/C-5 fleet (the planning share)."""
    (move,) = document(data, "move-sbct-by-air")["movements"]
    assert move["modes"] == ["air"]
    assert 5 <= days_after(move["arrival"], dt.date(2026, 1, 5)) <= 14
    assert move["loads"] > 250  # about 300 C-17 loads of cargo and people (anchors.md 5a: 290-325)


def test_armoured_brigade_by_sea_takes_3_to_8_weeks_with_reception(data):
    """T9 (anchors.md): about 3-8 weeks from the US to the front by sea, reception included."""
    (move,) = document(data, "move-abct-by-sea")["movements"]
    assert "sea" in move["modes"] and "rail" in move["modes"]
    assert 21 <= move["closure_days"] <= 56
    assert "bremerhaven" in move["route"] or "antwerp" in move["route"] or "vlissingen" in move["route"]


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda p: p.stem)
def test_every_bundled_scenario_moves_everything(data, path):
    scenario = load_scenario(path)
    lift = lift_data(data)
    timeline = scenario.timeline(data)
    moves = moves_from_scenario(scenario, data, lift, timeline)
    result = simulate(moves, lift)
    for outcome in result.point.outcomes:
        assert outcome.stuck == {}, outcome.move.label
        assert outcome.ready is not None
    # every person the timeline withdraws is on a withdrawal move
    withdrawn = timeline.withdrawals
    withdrawn = withdrawn[withdrawn["reason"] == "withdrawn"]["personnel"].sum()
    assert sum(m.personnel for m in moves if not m.inbound) == withdrawn


def test_sampled_closure_brackets_and_is_reproducible(data):
    a = document(data, "move-abct-by-sea", samples=30, seed=3)
    b = document(data, "move-abct-by-sea", samples=30, seed=3)
    assert a["movements"] == b["movements"]
    q = a["movements"][0]["closure_days"]
    assert q["p10"] <= q["p50"] <= q["p90"]


def write(tmp_path, body: str):
    path = tmp_path / "s.yaml"
    path.write_text("name: t\nstart: 2026-01-01\nhorizon: 2026-12-31\nstep: month\n" + textwrap.dedent(body))
    return path


@pytest.mark.parametrize(("body", "message", "line"), [
    ("""actions:
  - deploy: {who: USA, to: POL, troops: 500, unit_type: ibct, by: 2026-03-01, lift: {c71_available: 4}}
""", "'c71_available' is not an aircraft or ship fleet", 6),
    ("""actions:
  - deploy: {who: USA, to: POL, troops: 500, unit_type: ibct, by: 2026-03-01, origin: fort_brag}
""", "unknown lift node 'fort_brag'", 6),
    ("""actions:
  - set: {path: lift.c17.availble, value: 10}
""", "unknown lift parameter 'lift.c17.availble'", 6),
    ("""actions:
  - deploy: {who: USA, to: POL, troops: 500, unit_type: ibct, by: 2026-03-01, mode: rail}
""", "cannot cross the Atlantic", 6),
])
def test_bad_moves_are_located_errors(data, tmp_path, body, message, line):
    path = write(tmp_path, body)
    with pytest.raises(ScenarioError) as info:
        run_movement(load_scenario(path), data)
    problem = info.value.problems[0]
    assert message in problem.message
    assert problem.location.line == line


def test_lift_overrides_change_the_answer(data):
    base = """actions:
  - deploy: {who: USA, to: {sites: [rzeszow]}, troops: 3000, unit_type: ibct, start: 2026-02-01, by: 2026-03-01}
"""
    few = base + "  - set: {path: lift.c17.committed_share, value: 0.05}\n"
    normal = run_movement(scenario_from_text("name: a\nstart: 2026-01-01\nhorizon: 2026-12-31\n" + base, "a.yaml"), data)
    scarce = run_movement(scenario_from_text("name: b\nstart: 2026-01-01\nhorizon: 2026-12-31\n" + few, "b.yaml"), data)
    assert scarce["lift_overrides"] == {"c17.committed_share": 0.05}
    assert scarce["movements"][0]["closure_days"] > normal["movements"][0]["closure_days"]


def test_move_cli_json_and_store(tmp_path):
    store = str(tmp_path / "s.duckdb")
    proc = drawdown("move", str(SCENARIOS / "move-abct-by-sea.yaml"), "--json", "--samples", "5", "--store", store)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    (move,) = doc["movements"]
    assert {"force", "personnel", "modes", "start", "closure_days", "closure_days_planning", "bottleneck",
            "route"} <= set(move)
    assert all(u["peak"] <= u["capacity"] for u in doc["utilisation"].values())
    listed = json.loads(drawdown("runs", "list", "--json", "--store", store).stdout)
    assert [r["run_id"] for r in listed] == [doc["run_id"]]
    table = drawdown("move", str(SCENARIOS / "move-82nd-2022.yaml"), "--no-store")
    assert table.returncode == 0 and "closure" in table.stdout and "c17 fleet" in table.stdout


def test_move_cli_error_is_located(tmp_path):
    path = write(tmp_path, """actions:
  - deploy: {who: USA, to: POL, troops: 500, unit_type: ibct, by: 2026-03-01, mode: rail}
""")
    proc = drawdown("move", str(path), "--no-store")
    assert proc.returncode == 2
    assert f"{path}:6" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda p: p.stem)
def test_every_deployed_alerted_and_shifted_soldier_is_on_a_move(data, path):
    from drawdown.scenario.model import Alert, Deploy, Shift

    scenario = load_scenario(path)
    lift = lift_data(data)
    moves = moves_from_scenario(scenario, data, lift)
    for pa in scenario.parsed.actions:
        if isinstance(pa.action, (Deploy, Alert, Shift)):
            moved = sum(m.personnel for m in moves if m.action_line == pa.location.line)
            assert moved == pa.action.troops, (path.stem, pa.location.line)


def run_text(data, body: str, **kw):
    return run_movement(scenario_from_text("name: t\nstart: 2026-01-01\nhorizon: 2026-12-31\nstep: month\n"
                                           + textwrap.dedent(body), "t.yaml"), data, **kw)


def test_readiness_and_alert_timing_on_the_bundled_figures(data):
    doc = run_text(data, """actions:
  - deploy: {who: USA, to: {sites: [rzeszow]}, troops: 1000, unit_type: ibct, start: 2026-02-01, by: 2026-03-01}
  - deploy: {who: USA, to: {sites: [zagan]}, troops: 4000, unit_type: abct, start: 2026-02-01, by: 2026-05-01}
  - alert: {who: USA, troops: 1000, notice_days: 5, to: {sites: [rzeszow]}, unit_type: ibct, start: 2026-02-01}
""")
    light, heavy, alert = doc["movements"]
    assert light["departure"] == "2026-02-01 18:00"  # the Immediate Response Force's 18 h to wheels-up
    assert heavy["departure"] == "2026-02-05 00:00"  # 96 h to rail a brigade off post
    assert alert["departure"] == "2026-02-06 00:00"  # notice covers readiness: leaves when the notice runs out


def test_european_withdrawals_go_home_not_to_america(data):
    doc = run_text(data, """actions:
  - withdraw: {who: DEU, from: {countries: [LTU]}, start: 2026-03-01, by: 2026-06-30}
""")
    assert doc["movements"]
    for m in doc["movements"]:
        assert m["owner"] == "DEU"
        assert "sea" not in m["modes"] and "charleston" not in m["route"]
        assert data.tables["lift_nodes"].set_index("id").loc[m["destination"], "country"] == "DEU"


def test_shift_takes_troops_from_every_place_selected(data):
    doc = run_text(data, """actions:
  - shift: {who: USA, troops: 3000, from: {countries: [ITA, DEU]}, to: POL, start: 2026-02-01, by: 2026-04-01}
""")
    origins = {m["origin"] for m in doc["movements"]}
    assert len(origins) >= 2 and sum(m["personnel"] for m in doc["movements"]) == 3000
    by_type = run_text(data, """actions:
  - shift: {who: USA, troops: 500, from: {unit_types: [fighter_sqn]}, to: POL, start: 2026-02-01, by: 2026-04-01}
""")
    assert sum(m["personnel"] for m in by_type["movements"]) == 500


@pytest.mark.parametrize(("body", "message"), [
    ("  - set: {path: lift.c17.block_speed_kmh, value: 0}\n", "takes a number > 0"),
    ("  - set: {path: lift.rail_military.trains_per_day, value: 0}\n", "takes a number > 0"),
    ("  - deploy: {who: USA, to: POL, troops: 500, unit_type: ibct, by: 2026-03-01, lift: {c17_available: 0}}\n",
     "greater than or equal to 1"),
])
def test_zero_lift_is_refused_before_anything_divides_by_it(data, body, message):
    with pytest.raises(ScenarioError) as info:
        run_text(data, "actions:\n" + body)
    assert message in str(info.value)


def test_a_whole_fleet_can_be_set_directly(data):
    base = """actions:
  - deploy: {who: USA, to: {sites: [rzeszow]}, troops: 3000, unit_type: ibct, start: 2026-02-01, by: 2026-03-01}
"""
    no_c5 = "  - set: {path: lift.c5m.available, value: 0}\n"
    few = run_text(data, base + no_c5 + "  - set: {path: lift.c17.available, value: 5}\n")
    many = run_text(data, base + no_c5 + "  - set: {path: lift.c17.available, value: 100}\n")
    assert few["utilisation"]["c17 fleet"]["capacity"] == 5
    assert few["movements"][0]["closure_days"] > many["movements"][0]["closure_days"]


def test_validate_catches_bad_lift_keys_and_origins_without_running_the_engine(tmp_path):
    path = write(tmp_path, """actions:
  - deploy: {who: USA, to: POL, troops: 500, unit_type: ibct, by: 2026-03-01, lift: {c71_available: 4}, origin: fort_brag}
""")
    proc = drawdown("validate", str(path))
    assert proc.returncode == 2
    assert "'c71_available' is not an aircraft or ship fleet" in proc.stderr and "fort_brag" in proc.stderr
