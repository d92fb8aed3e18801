"""The command line as a user meets it: JSON on stdout only, located errors with exit status 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from .conftest import SCENARIOS, bundled_scenarios


def drawdown(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "drawdown", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_run_json_is_one_document_with_the_promised_fields(tmp_path):
    proc = drawdown("run", *map(str, bundled_scenarios()), "--json", "--store", str(tmp_path / "s.duckdb"))
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)  # stdout holds nothing but the JSON document
    assert len(document["runs"]) == len(bundled_scenarios())
    for run in document["runs"]:
        assert run["run_id"]
        assert set(run["withdrawn_by_category"]) >= {"manoeuvre", "air", "air_missile_defence", "naval"}
        for phase in run["phases"]:
            assert set(phase) == {"date", "us_troops_total", "us_troops_by_country", "us_sites"}
            assert phase["us_troops_total"] == sum(phase["us_troops_by_country"].values())
    by_name = {r["scenario"]: r for r in document["runs"]}
    kosovo = by_name["kosovo-exit"]
    assert "XKX" in kosovo["phases"][0]["us_troops_by_country"]
    assert "XKX" not in kosovo["phases"][-1]["us_troops_by_country"]
    assert "camp_bondsteel" not in kosovo["phases"][-1]["us_sites"]
    listed = drawdown("runs", "list", "--json", "--store", str(tmp_path / "s.duckdb"))
    assert {r["run_id"] for r in json.loads(listed.stdout)} == {r["run_id"] for r in document["runs"]}


def test_human_output_summarises_and_says_where_results_are(tmp_path):
    proc = drawdown("run", str(SCENARIOS / "kosovo-exit.yaml"), "--store", str(tmp_path / "s.duckdb"))
    assert proc.returncode == 0, proc.stderr
    assert "US troops by country" in proc.stdout
    assert str(tmp_path / "s.duckdb") in proc.stdout.replace("\n", "")


def test_validate_reports_file_line_column_and_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nstart: 2026-01-01\nhorizon: 2030-12-31\nactions:\n"
                   "  - withdraw: {who: USA, from: {countries: [DEUX]}, by: 2027-01-01}\n")
    proc = drawdown("validate", str(bad), str(SCENARIOS / "kosovo-exit.yaml"))
    assert proc.returncode == 2
    assert f"{bad}:5:" in proc.stderr
    assert "did you mean 'DEU'" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("content,expected", [
    (b"\x00\x01\x02binary", "binary file"),
    (b"name: caf\xe9\n", "not UTF-8"),
    (b"- just\n- a list\n", "must be a YAML mapping"),
    (b"name: [unclosed\n", "YAML syntax error"),
])
def test_garbage_files_are_refused_cleanly(tmp_path, content, expected):
    path = tmp_path / "garbage.yaml"
    path.write_bytes(content)
    proc = drawdown("run", str(path), "--no-store")
    assert proc.returncode == 2
    assert expected in proc.stderr and "Traceback" not in proc.stderr


def test_missing_file_is_a_clear_error():
    proc = drawdown("run", "no/such/scenario.yaml", "--no-store")
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_runs_show_and_export(tmp_path):
    store = str(tmp_path / "s.duckdb")
    run = json.loads(drawdown("run", str(SCENARIOS / "kosovo-exit.yaml"), "--json", "--store", store).stdout)
    run_id = run["runs"][0]["run_id"]
    shown = drawdown("runs", "show", run_id, "--store", store)
    assert shown.returncode == 0 and "kosovo-exit" in shown.stdout and "complete" in shown.stdout
    exported = drawdown("runs", "export", run_id, "--parquet", str(tmp_path / "pq"), "--store", store)
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "pq" / "posture.parquet").exists()
    missing = drawdown("runs", "show", "nope", "--store", store)
    assert missing.returncode == 2 and "no run 'nope'" in missing.stderr


def test_data_commands():
    assert drawdown("data", "validate").returncode == 0
    us = json.loads(drawdown("data", "show", "us", "--country", "DEU", "--as-of", "2025-11-01", "--json").stdout)
    assert sum(r["personnel"] for r in us) == 35000
    conflicts = json.loads(drawdown("data", "sources", "--conflicts", "--json").stdout)
    germany = [r for r in conflicts if r["table"] == "country_totals" and r["key"] == "USA/DEU"]
    assert germany[0]["chosen"] and germany[0]["value"] == 35000  # chosen first
    assert len(germany) > 1 and not any(r["chosen"] for r in germany[1:])
    bad = drawdown("data", "show", "nation")
    assert bad.returncode == 2 and "did you mean 'nations'" in bad.stderr


def test_data_export(tmp_path):
    proc = drawdown("data", "export", str(tmp_path / "x"), "--as-of", "2025-11-01")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text())
    assert manifest["as_of"] == "2025-11-01" and manifest["data_version"]
    import duckdb

    total = duckdb.sql(f"SELECT sum(personnel) FROM '{tmp_path / 'x' / 'us_forces.parquet'}'").fetchall()[0][0]
    assert 78_000 <= total <= 105_000
    csv = drawdown("data", "export", str(tmp_path / "y"), "--format", "csv")
    assert csv.returncode == 0 and (tmp_path / "y" / "nations.csv").exists()
    bad = drawdown("data", "export", str(tmp_path / "z"), "--format", "xls")
    assert bad.returncode == 2 and "unknown format" in bad.stderr


def test_schema_is_valid_and_accepts_every_bundled_scenario():
    proc = drawdown("schema")
    schema = json.loads(proc.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    yaml = YAML(typ="safe")
    for path in bundled_scenarios():
        document = json.loads(json.dumps(yaml.load(path.read_text()), default=str))
        errors = list(validator.iter_errors(document))
        assert not errors, (path.name, [e.message for e in errors])
    items = [schema["$defs"][v["$ref"].split("/")[-1]] for v in schema["properties"]["actions"]["items"]["anyOf"]]
    kinds = {next(iter(item["properties"])) for item in items}
    assert kinds == {"withdraw", "keep", "reduce", "shift", "deploy", "alert", "backstop", "backfill", "forbid", "set"}


def test_scenario_language_doc_is_generated_from_the_code():
    from drawdown.scenario.docs import scenario_language_markdown

    committed = (Path(__file__).resolve().parents[1] / "docs" / "scenario-language.md").read_text()
    assert committed == scenario_language_markdown(), "run: drawdown schema --markdown > docs/scenario-language.md"


def test_data_doc_is_generated_from_the_catalogue(data):
    from drawdown.data.docs import data_markdown

    committed = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text()
    assert committed == data_markdown(data), "run: drawdown data docs > docs/data.md"


def strict_json(text: str):
    """json.loads that refuses NaN/Infinity, which are not JSON."""
    def refuse(token):
        raise ValueError(f"invalid JSON constant {token}")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("args", [
    ("data", "show", "nations", "--json"), ("data", "show", "us", "--json"), ("data", "show", "units", "--json"),
    ("data", "show", "equipment", "--json"), ("data", "sources", "--json"), ("data", "sources", "--conflicts", "--json"),
])
def test_json_output_is_strict_json(args):
    proc = drawdown(*args)
    assert proc.returncode == 0, proc.stderr
    assert strict_json(proc.stdout)


def test_runs_json_is_strict_even_for_unfinished_runs(tmp_path):
    store = str(tmp_path / "s.duckdb")
    drawdown("run", str(SCENARIOS / "kosovo-exit.yaml"), "--store", store)
    listed = drawdown("runs", "list", "--json", "--store", store)
    runs = strict_json(listed.stdout)
    shown = strict_json(drawdown("runs", "show", runs[0]["run_id"], "--json", "--store", store).stdout)
    assert shown["status"] == "complete"


def test_a_bad_file_in_a_batch_stores_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nstart: 2026-01-01\nhorizon: 2030-12-31\nactions:\n"
                   "  - withdraw: {who: USA, from: [ISL], by: 2027-01-01}\n")
    store = tmp_path / "s.duckdb"
    proc = drawdown("run", str(SCENARIOS / "kosovo-exit.yaml"), str(bad), "--json", "--store", str(store))
    assert proc.returncode == 2 and "nothing to withdraw" in proc.stderr and proc.stdout == ""
    assert not store.exists()


def test_foreign_duckdb_files_and_bad_export_targets_are_clear_errors(tmp_path):
    import duckdb

    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE runs (x INTEGER)")
    con.close()
    for args in (("runs", "list", "--store", str(other)),
                 ("run", str(SCENARIOS / "kosovo-exit.yaml"), "--store", str(other))):
        proc = drawdown(*args)
        assert proc.returncode == 2 and "not a drawdown results store" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    store = str(tmp_path / "s.duckdb")
    run = strict_json(drawdown("run", str(SCENARIOS / "kosovo-exit.yaml"), "--json", "--store", store).stdout)
    run_id = run["runs"][0]["run_id"]
    afile = tmp_path / "afile"
    afile.write_text("x")
    proc = drawdown("runs", "export", run_id, "--parquet", str(afile), "--store", store)
    assert proc.returncode == 2 and "cannot write there" in proc.stderr
    short = drawdown("runs", "show", "", "--store", store)
    assert short.returncode == 2 and "too short" in short.stderr


def test_data_coverage_reports_figures_and_assumptions(data):
    proc = drawdown("data", "coverage", "--json")
    assert proc.returncode == 0, proc.stderr
    report = strict_json(proc.stdout)
    assert report["equipment_active"]["POL"]["mbt"] == 631
    assert "mbt" not in report["equipment_active"].get("ISL", {})
    shares = {r["table"]: r for r in report["assumptions"]}
    us = data.tables["us_forces"]
    kinds = data.sources.set_index("id")["kind"]
    assert shares["us_forces"]["assumption_rows"] == int((us["source"].map(kinds) == "assumption").sum())
    human = drawdown("data", "coverage")
    assert "nation-class cells have a figure" in human.stdout


def test_campaign_json_holds_the_promised_fields(tmp_path):
    proc = drawdown("campaign", str(SCENARIOS / "rand-2016-baltic.yaml"), "--samples", "2000", "--seed", "3",
                    "--json", "--store", str(tmp_path / "s.duckdb"), "--require-hold-days", "2",
                    "--probability", "0.8", "--unit-type", "armd_bn")
    assert proc.returncode == 0, proc.stderr
    document = strict_json(proc.stdout)
    for key in ("theatre", "samples", "seed", "date", "time_to_objective_hours", "prob_objective_by_day",
                "defender_units", "attacker_units", "run_id", "requirement"):
        assert key in document
    assert set(document["prob_objective_by_day"]["Riga"]) == {"1", "3", "7", "14"}
    assert document["requirement"]["additional_units"] > 0
    listed = strict_json(drawdown("runs", "list", "--json", "--store", str(tmp_path / "s.duckdb")).stdout)
    assert [r["status"] for r in listed] == ["complete"]
    bad = drawdown("campaign", str(SCENARIOS / "rand-2016-baltic.yaml"), "--no-store", "--require-hold-days", "2",
                   "--unit-type", "fighter_sqn")
    assert bad.returncode == 2 and "not a manoeuvre unit type" in bad.stderr


def test_campaign_require_subcommand_matches_the_flag(tmp_path):
    """`campaign require FILE` and `campaign FILE --require-hold-days` give the same answer; `campaign FILE`
    still runs the campaign (the group defaults to `run`)."""
    scenario = str(SCENARIOS / "rand-2016-baltic.yaml")
    sub = drawdown("campaign", "require", scenario, "--hold-days", "2", "--probability", "0.8", "--samples", "1500",
                   "--json", "--no-store")
    flag = drawdown("campaign", scenario, "--require-hold-days", "2", "--probability", "0.8", "--samples", "1500",
                    "--json", "--no-store")
    assert sub.returncode == 0 and flag.returncode == 0, sub.stderr + flag.stderr
    assert strict_json(sub.stdout)["requirement"] == strict_json(flag.stdout)["requirement"]
    text = drawdown("campaign", "require", scenario, "--hold-days", "2", "--samples", "1000", "--no-store")
    assert "to hold 2 days with probability 90%" in text.stdout


def test_roadmap_and_cost_json_and_stored(tmp_path):
    store = str(tmp_path / "s.duckdb")
    proc = drawdown("roadmap", str(SCENARIOS / "germany-roadmap.yaml"), "--json", "--store", store)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)  # the solver's banner and logs stay out of stdout
    assert set(document) >= {"feasible", "objective", "phases", "cost_usd", "binding_constraints", "run_id"}
    assert document["feasible"] and document["phases"][0]["deterrence"]
    proc = drawdown("cost", str(SCENARIOS / "iiss-2025-cost.yaml"), "--json", "--store", store)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["buylist"]["life_cycle_years"] == 25
    listed = json.loads(drawdown("runs", "list", "--json", "--store", store).stdout)
    assert {r.get("engine") for r in listed} >= {"roadmap", "cost"}


def test_roadmap_text_explains_infeasible_and_refuses_bad_flags(tmp_path):
    early = tmp_path / "early.yaml"
    early.write_text((SCENARIOS / "post-1990-exit.yaml").read_text().replace("by: 2028-12-31", "by: 2027-06-30"))
    proc = drawdown("roadmap", str(early), "--no-store")
    assert proc.returncode == 0, proc.stderr
    assert "No roadmap meets every constraint" in proc.stdout and "aegis" in proc.stdout
    bad = drawdown("roadmap", str(SCENARIOS / "post-1990-exit.yaml"), "--objective", "cheapest", "--no-store")
    assert bad.returncode == 2 and "unknown objective 'cheapest'" in bad.stderr and "Traceback" not in bad.stderr
