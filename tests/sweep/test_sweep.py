"""Sweeps: designs, point scenarios, local Ray equal to running points one by one, resume after a kill with no
duplicates, clear errors for unknown paths, and sensitivity that finds the input that matters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from drawdown.store import Store
from drawdown.sweep import design, load_spec, point_scenario, run_points, run_sweep, sensitivity
from drawdown.sweep.spec import SweepModel

from ..conftest import ROOT

SPEC = """\
name: {name}
base: {base}
engine: campaign
samples: 200
seed: 3
method: {method}
points: {points}
{extra}parameters:
  - {{path: contingency.warning_days, low: 0, high: 14}}
  - {{path: campaign.coefficient.movement_efficiency, low: 0.2, high: 0.4}}
outputs: [time_to_objective_hours.Tallinn.p50, prob_objective_by_day.Riga.7]
"""


def write_spec(tmp_path: Path, *, name: str = "small", method: str = "lhs", points: int = 4, extra: str = "") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(SPEC.format(name=name, base=ROOT / "scenarios" / "rand-2016-baltic.yaml", method=method,
                                points=points, extra=extra))
    return path


def test_designs_are_reproducible_and_inside_their_ranges(tmp_path):
    lhs = design(load_spec(write_spec(tmp_path, points=8)))
    assert len(lhs) == 8 and lhs.equals(design(load_spec(write_spec(tmp_path, points=8))))
    assert lhs["contingency.warning_days"].between(0, 14).all()
    assert lhs["campaign.coefficient.movement_efficiency"].between(0.2, 0.4).all()
    sobol = design(load_spec(write_spec(tmp_path, name="s", method="sobol", points=8)))
    assert len(sobol) == 8 * (2 + 2)
    a, ab0 = sobol[sobol["block"] == "A"].reset_index(drop=True), sobol[sobol["block"] == "AB0"].reset_index(drop=True)
    b = sobol[sobol["block"] == "B"].reset_index(drop=True)
    assert (ab0["contingency.warning_days"] == b["contingency.warning_days"]).all()  # AB_0: column 0 from B
    assert (ab0["campaign.coefficient.movement_efficiency"] == a["campaign.coefficient.movement_efficiency"]).all()


def test_point_scenario_writes_fields_in_place_and_parameters_as_set():
    base = {"name": "x", "contingency": {"theatre": "baltic", "warning_days": 7}, "actions": []}
    doc = point_scenario(base, {"contingency.warning_days": 3.6, "campaign.coefficient.movement_efficiency": 0.3},
                         {"contingency.warning_days"})
    assert doc["contingency"]["warning_days"] == 4 and base["contingency"]["warning_days"] == 7
    assert doc["actions"][-1] == {"set": {"path": "campaign.coefficient.movement_efficiency", "value": 0.3}}


def test_unknown_paths_are_named_before_anything_runs(tmp_path, data):
    from drawdown.errors import ScenarioError

    path = write_spec(tmp_path)
    path.write_text(path.read_text().replace("contingency.warning_days", "contingency.warnin_days")
                    .replace("movement_efficiency", "movement_eficiency"))
    with pytest.raises(ScenarioError) as info:
        run_sweep(load_spec(path), data, Store(tmp_path / "s.duckdb"), local=True)
    text = str(info.value)
    assert "unknown parameter path 'contingency.warnin_days'" in text and "contingency.warning_days" in text
    assert "campaign.coefficient.movement_efficiency" in text and f"{path.name}:" in text
    assert not (tmp_path / "s.duckdb").exists()  # nothing was stored
    bad = write_spec(tmp_path, name="bad", method="sobol", points=6)
    with pytest.raises(ScenarioError, match="power of 2"):
        load_spec(bad)


def test_ray_sweep_equals_the_points_run_one_by_one(tmp_path, data):
    pytest.importorskip("ray")
    spec = load_spec(write_spec(tmp_path, points=6, extra="points_per_task: 2\n"))
    summary = run_sweep(spec, data, Store(tmp_path / "ray.duckdb"), workers=2)
    assert summary["mode"].startswith("ray") and summary["points"] == 6
    on_ray = Store(tmp_path / "ray.duckdb").sweep_points(summary["sweep_id"])
    from drawdown.sweep import prepare

    job, points = prepare(spec, data)
    direct = run_points(job, [(int(i), {c: row[c] for c in points.columns}) for i, row in points.iterrows()])
    assert [r["outputs"] for r in direct] == list(on_ray["outputs"])
    assert [r["parameters"] for r in direct] == list(on_ray["parameters"])


def test_a_killed_sweep_resumes_without_redoing_or_duplicating(tmp_path, data):
    spec_path = write_spec(tmp_path, points=5, extra="points_per_task: 1\n")
    store = tmp_path / "s.duckdb"
    env = {**os.environ, "DRAWDOWN_FAULT_SWEEP_EXIT_AFTER": "2", "DRAWDOWN_SWEEP_FLUSH_SECONDS": "0"}
    args = [sys.executable, "-m", "drawdown", "sweep", str(spec_path), "--local", "--store", str(store), "--json"]
    killed = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert killed.returncode == 17, killed.stderr  # died after two writes reached the store
    from dataclasses import replace

    sweep_id = replace(load_spec(spec_path), data_version=data.version).sweep_id
    assert len(Store(store).sweep_points(sweep_id)) == 3  # the two points run in the driver, then one task
    listed = subprocess.run([sys.executable, "-m", "drawdown", "runs", "list", "--json", "--store", str(store)],
                            capture_output=True, text=True, timeout=120)
    assert json.loads(listed.stdout)[0]["status"] == "interrupted"
    resumed = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["resumed_from"] == 3 and summary["ran_now"] == 2
    assert summary["sweep_id"] == sweep_id
    final = Store(store).sweep_points(sweep_id)
    assert sorted(final["point"]) == [0, 1, 2, 3, 4]  # each point once
    fresh = subprocess.run([*args[:-3], "--store", str(tmp_path / "fresh.duckdb"), "--json"], capture_output=True, text=True,
                           timeout=300)
    assert fresh.returncode == 0, fresh.stderr
    clean = Store(tmp_path / "fresh.duckdb").sweep_points(sweep_id)
    assert list(clean["outputs"]) == list(final["outputs"])  # the same final set as an uninterrupted sweep
    again = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert json.loads(again.stdout)["ran_now"] == 0  # a finished sweep is not run again


def test_sensitivity_finds_the_input_that_matters():
    """y = 10 x1 + x2 (+ nothing of x3) on a Sobol' design: x1 dominates, x3 is idle."""
    model = SweepModel.model_validate({
        "name": "synthetic", "base": "x.yaml", "method": "sobol", "points": 64, "seed": 1,
        "parameters": [{"path": "x1", "low": 0, "high": 1}, {"path": "x2", "low": 0, "high": 1},
                       {"path": "x3", "low": 0, "high": 1}], "outputs": ["y"]})
    from drawdown.sweep.spec import SweepSpec
    from drawdown.scenario.parse import Positions

    frame = design(SweepSpec(model, "x.yaml", "", Positions("x.yaml"), Path("x.yaml")))
    points = pd.DataFrame({
        "point": range(len(frame)), "block": frame["block"],
        "parameters": [{k: float(r[k]) for k in ("x1", "x2", "x3")} for _, r in frame.iterrows()],
        "outputs": [{"y": 10 * r["x1"] + r["x2"]} for _, r in frame.iterrows()]})
    result = sensitivity(points, "sobol", ["x1", "x2", "x3"], ["y"], n=64)["outputs"]["y"]
    assert result["ranking"][0] == "x1"
    assert result["inputs"]["x1"]["total_order"] > 0.9
    assert abs(result["inputs"]["x3"]["total_order"]) < 0.05
    assert result["text"].startswith("y depends mostly on x1") and "x3" in result["text"].split("hardly on")[1]
    lhs = sensitivity(points, "lhs", ["x1", "x2", "x3"], ["y"])["outputs"]["y"]
    assert lhs["ranking"][0] == "x1" and lhs["inputs"]["x1"]["tornado"]["output_at_high"] > \
        lhs["inputs"]["x1"]["tornado"]["output_at_low"]
    assert np.isfinite(lhs["inputs"]["x3"]["spearman"])


def test_sensitivity_cli_on_a_stored_sweep(tmp_path, data):
    spec = load_spec(write_spec(tmp_path, points=6))
    summary = run_sweep(spec, data, Store(tmp_path / "s.duckdb"), local=True)
    proc = subprocess.run([sys.executable, "-m", "drawdown", "sensitivity", summary["sweep_id"][:14], "--json",
                           "--store", str(tmp_path / "s.duckdb")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert set(document["outputs"]) == {"time_to_objective_hours.Tallinn.p50", "prob_objective_by_day.Riga.7"}
    tallinn = document["outputs"]["time_to_objective_hours.Tallinn.p50"]
    assert tallinn["ranking"][0] == "campaign.coefficient.movement_efficiency"  # the advance rate drives it
    assert "depends mostly on" in tallinn["text"]


def synthetic(method: str = "sobol", n: int = 16) -> tuple[pd.DataFrame, list[str]]:
    from drawdown.scenario.parse import Positions
    from drawdown.sweep.spec import SweepSpec

    model = SweepModel.model_validate({
        "name": "synthetic", "base": "x.yaml", "method": method, "points": n, "seed": 1,
        "parameters": [{"path": "x1", "low": 0, "high": 1}, {"path": "x2", "low": 0, "high": 1}], "outputs": ["y"]})
    frame = design(SweepSpec(model, "x.yaml", "", Positions("x.yaml"), Path("x.yaml")))
    return frame, ["x1", "x2"]


def test_sensitivity_copes_with_whole_numbers_gaps_and_constants():
    frame, names = synthetic()
    def points(fn):
        return pd.DataFrame({"point": range(len(frame)), "block": frame["block"],
                             "parameters": [{k: float(r[k]) for k in names} for _, r in frame.iterrows()],
                             "outputs": [{"y": fn(r)} for _, r in frame.iterrows()]})
    whole = sensitivity(points(lambda r: int(10 * r["x1"])), "sobol", names, ["y"], n=16)["outputs"]["y"]
    assert whole["ranking"][0] == "x1" and "rough" in whole["note"]  # integers are fine; small N is flagged
    constant = sensitivity(points(lambda r: 3), "sobol", names, ["y"], n=16)["outputs"]["y"]
    assert "same at every point" in constant["text"]
    partial = points(lambda r: r["x1"]).drop(index=[3, 20])  # an incomplete sweep: blocks no longer paired
    ranked = sensitivity(partial, "sobol", names, ["y"], n=16)["outputs"]["y"]
    assert "rank correlations instead" in ranked["note"] and ranked["ranking"][0] == "x1"
    gaps = sensitivity(points(lambda r: None if r["x2"] > 0.8 else r["x2"]), "sobol", names, ["y"], n=16)["outputs"]["y"]
    assert gaps["missing"] > 0 and gaps["ranking"][0] == "x2"


def test_settable_parameters_under_scenario_field_names_and_identity(tmp_path, data):
    from dataclasses import replace

    from drawdown.sweep import prepare

    path = write_spec(tmp_path)
    path.write_text(path.read_text().replace("contingency.warning_days, low: 0, high: 14",
                                             "roadmap.hold_days, low: 5, high: 20"))
    spec = load_spec(path)
    job, points = prepare(spec, data)  # the base has no roadmap block: roadmap.hold_days is a `set` parameter
    assert job["settable"] == ["campaign.coefficient.movement_efficiency", "roadmap.hold_days"]
    first = replace(spec, data_version=data.version).sweep_id
    assert replace(spec, data_version="other").sweep_id != first  # other data: a new sweep, never mixed
    too_big = write_spec(tmp_path, name="big", method="sobol", points=2 ** 19)
    from drawdown.errors import ScenarioError

    with pytest.raises(ScenarioError, match="limit is"):
        load_spec(too_big)


def test_invalid_values_are_refused_before_anything_runs(tmp_path, data):
    from drawdown.errors import DrawdownError

    path = write_spec(tmp_path)
    path.write_text(path.read_text().replace("low: 0.2, high: 0.4", "low: -0.5, high: 0.4"))
    with pytest.raises(DrawdownError, match="minimum of the design .* invalid scenario"):
        run_sweep(load_spec(path), data, Store(tmp_path / "s.duckdb"), local=True)
    assert not (tmp_path / "s.duckdb").exists()
