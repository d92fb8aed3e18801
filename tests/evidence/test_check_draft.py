"""Checks against the data and between articles; the drafted scenario validates and runs; the store keeps claims."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from ruamel.yaml import YAML

from drawdown.evidence import check, document, extract, extract_text, to_scenario
from drawdown.scenario import scenario_from_text
from drawdown.store import Store
from tests.evidence.conftest import ARTICLES, seed

DAY = dt.date(2025, 11, 1)


def _result(text, data, name="<t>", **meta):
    return extract_text(text, data, name=name, date=meta.pop("date", DAY), **meta)


def test_counts_agree_or_conflict_with_the_published_figures(data):
    good = _result("The United States has over 600 troops stationed in KFOR, following Italy's 1,258 troops.", data)
    bad = _result("The United States has about 5,000 troops stationed in Kosovo.", data)
    verdicts = check([good, bad], data)["checks"]
    status = [(v["claim"], v["status"]) for v in verdicts]
    assert status == [(0, "agrees"), (1, "agrees"), (0, "conflicts")]
    conflict = verdicts[2]
    assert conflict["value"] == 600 and conflict["sources"] and conflict["as_of"]
    assert "5,000" in conflict["detail"] and "600" in conflict["detail"]


def test_withdrawal_from_where_the_data_has_no_forces_conflicts(data):
    r = _result("The United States will withdraw its troops from Ireland by 2027.", data)
    [v] = check([r], data)["checks"]
    assert v["status"] == "conflicts" and "no USA forces" in v["detail"]
    r = _result("The United States will withdraw its troops from Poland by 2027.", data)
    [v] = check([r], data)["checks"]
    assert v["status"] == "agrees"


def test_moves_and_non_state_actors_are_not_covered(data):
    r = _result("The US placed 8,500 troops on heightened alert to deploy to Europe within five days.", data)
    [v] = check([r], data)["checks"]
    assert v["status"] == "not_covered"


def test_a_report_and_its_denial_contradict(data):
    report = _result("The US will pull 3,000 troops out of Poland next year, Politico reported.", data, name="a")
    denial = extract([ARTICLES / "own_02_denial.txt"], data)[0]
    other = _result("Italy will send 200 troops to Kosovo.", data, name="c")
    relations = check([report, denial, other], data)["relations"]
    kinds = {(r["a"]["path"], r["b"]["path"], r["kind"]) for r in relations}
    assert ("a", str(ARTICLES / "own_02_denial.txt"), "contradicts") in kinds
    assert not any("c" in (r["a"]["path"], r["b"]["path"]) for r in relations)


def test_two_reports_of_one_withdrawal_agree(data):
    a = _result("The US will withdraw its troops from Kosovo, Bild reported.", data, name="a")
    b = _result("Washington may pull its forces out of Kosovo next year.", data, name="b")
    [rel] = check([a, b], data)["relations"]
    assert rel["kind"] == "agrees" and not rel["same_article"]


def test_seed_kfor_counts_agree_with_the_data(data):
    result = extract([seed("003")], data, date=dt.date(2025, 2, 20))[0]
    checked = check([result], data)
    by_index = {v["claim"]: v for v in checked["checks"]}
    counts = [(c.actor, c.troops, by_index[c.index]["status"]) for c in result.claims if c.troops]
    assert counts == [("USA", 600, "agrees"), ("ITA", 1258, "agrees")]
    # the article carries a reported exit and the US mission's denial: flagged within the article
    assert any(r["kind"] == "contradicts" and r["same_article"] for r in checked["relations"])


# ------------------------------------------------------------------------------------------------ draft

def _actions(text: str) -> list[dict]:
    return YAML(typ="safe", pure=True).load(text)["actions"] or []


def test_draft_from_seed_validates_runs_and_cites_spans(data):
    path = seed("003")
    result = extract([path], data, date=dt.date(2025, 2, 20))[0]
    text = to_scenario([result], data, today=dt.date(2026, 12, 1))
    scenario = scenario_from_text(text)
    run = scenario.run(data)
    assert run.timeline.dates
    kinds = [next(iter(a)) for a in _actions(text)]
    assert "withdraw" in kinds and "keep" in kinds
    assert any(a["withdraw"]["from"] == {"countries": ["XKX"]} for a in _actions(text) if "withdraw" in a)
    keeps = [a["keep"] for a in _actions(text) if "keep" in a]
    assert keeps == [{"who": "USA", "sites": ["ramstein"]}, {"who": "USA", "countries": ["GBR"]}]
    assert not any("keeps nothing" in str(w) for w in run.warnings)
    raw = path.read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip().startswith("# ") and " chars " in line:
            span = line.split(" chars ")[1].split(":")[0]
            start, end = (int(x) for x in span.split("-"))
            assert 0 <= start < end <= len(raw)
    assert "denial" in text and "not drafted: a denial" in text
    # drawdown's words only: no sentence of the article is copied into the draft
    for claim in result.claims:
        assert claim.quote[:60] not in text


def test_draft_fills_defaults_and_says_so(data):
    r = _result("Some two thousand paratroopers from the 82nd Airborne Division were put on prepare-to-deploy "
                "orders and could move to Poland within 96 hours.\n\nGermany will send 500 troops to Lithuania by "
                "2027.", data, name="own")
    text = to_scenario([r], data, today=dt.date(2026, 12, 1))
    actions = _actions(text)
    alert = next(a["alert"] for a in actions if "alert" in a)
    assert (alert["troops"], alert["notice_days"], alert["to"]) == (2000, 4, {"countries": ["POL"]})
    deploy = next(a["deploy"] for a in actions if "deploy" in a)
    assert (deploy["who"], deploy["troops"], deploy["unit_type"], str(deploy["by"])) == ("DEU", 500, "mech_bde", "2027-12-31")
    assert "unit type not in the article: mech_bde assumed" in text
    scenario_from_text(text).run(data)


def test_an_action_the_compiler_refuses_is_commented_out(data):
    """Withdrawing from a nation and shifting troops into it: the compiler refuses the shift; the draft keeps the
    withdrawal, comments the shift out with the compiler's reason, and still runs."""
    r = _result("The US will withdraw its troops from Bulgaria by 2027.\n\nThe Pentagon shifted 500 troops from "
                "Germany to Bulgaria.", data)
    text = to_scenario([r], data, today=dt.date(2026, 12, 1))
    kinds = [next(iter(a)) for a in _actions(text)]
    assert kinds == ["withdraw"]
    assert "not drafted: the scenario compiler refused `shift:" in text
    scenario_from_text(text).run(data)


def test_nothing_to_draft_still_gives_a_valid_scenario(data):
    r = _result("The US denied that it would withdraw its troops from Poland.", data)
    text = to_scenario([r], data, today=dt.date(2026, 12, 1))
    assert _actions(text) == []
    scenario_from_text(text).run(data)


# ------------------------------------------------------------------------------------------------ store and CLI

def test_claims_are_stored_and_replaced_not_duplicated(tmp_path, data):
    store = Store(tmp_path / "r.duckdb")
    results = extract([ARTICLES / "own_01_germany_cut.txt", ARTICLES / "own_02_denial.txt"], data)
    doc = document(results, check(results, data))
    store.add_articles(doc["articles"], data_version=data.version, code_version="test")
    store.add_articles(doc["articles"][:1], data_version=data.version, code_version="test")
    frame = store.claims()
    assert len(frame) == sum(len(r.claims) for r in results)
    assert set(frame["outlet"]) == {"The Example Gazette"}
    assert frame["check_status"].notna().all()


def test_a_failed_write_leaves_earlier_claims_intact(tmp_path, data):
    store = Store(tmp_path / "r.duckdb")
    results = extract([ARTICLES / "own_01_germany_cut.txt"], data)
    doc = document(results)
    store.add_articles(doc["articles"], data_version=data.version, code_version="test")
    broken = json.loads(json.dumps(doc["articles"]))
    broken[0]["id"] = "other"
    broken[0]["claims"][-1]["span"] = None  # fails mid-transaction, after the first claims were inserted
    with pytest.raises(TypeError):
        store.add_articles(broken, data_version=data.version, code_version="test")
    frame = store.claims()
    assert set(frame["article_id"]) == {doc["articles"][0]["id"]}


def test_cli_extract_check_and_to_scenario(tmp_path):
    store = tmp_path / "r.duckdb"
    run = [sys.executable, "-m", "drawdown"]
    done = subprocess.run(run + ["evidence", "extract", str(ARTICLES), "--json", "--store", str(store)],
                          capture_output=True, text=True, check=True)
    document = json.loads(done.stdout)
    assert len(document["articles"]) == 6
    assert all({"actor", "action", "troops", "unit_type", "location", "countries", "sites", "modality",
                "attribution", "span"} <= set(c) for a in document["articles"] for c in a["claims"])
    done = subprocess.run(run + ["evidence", "check", str(ARTICLES / "own_02_denial.txt"), "--no-store"],
                          capture_output=True, text=True, check=True)
    assert "denial" in done.stdout
    out = tmp_path / "draft.yaml"
    done = subprocess.run(run + ["evidence", "to-scenario", str(ARTICLES / "own_05_keep.txt"), "-o", str(out),
                                 "--date", "2026-03-01", "--no-store"], capture_output=True, text=True, check=True)
    assert out.exists() and "wrote" in done.stdout
    subprocess.run(run + ["validate", str(out)], capture_output=True, text=True, check=True)
    done = subprocess.run(run + ["evidence", "list", "--store", str(store), "--json"], capture_output=True,
                          text=True, check=True)
    assert len(json.loads(done.stdout)) == sum(len(a["claims"]) for a in document["articles"])


def test_cli_refuses_binary_with_status_2(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"\x00\x01binary")
    done = subprocess.run([sys.executable, "-m", "drawdown", "evidence", "extract", str(path), "--no-store"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "binary" in done.stderr and "x.txt" in done.stderr
    assert "Traceback" not in done.stderr


def test_counted_cuts_and_withdrawals_become_ceilings(data):
    from drawdown.evidence.draft import _present

    present = _present(data, "USA", "DEU", dt.date(2025, 12, 1))
    italy = _present(data, "USA", "ITA", dt.date(2025, 12, 1))
    r = _result("The Pentagon will cut 12,000 troops in Germany.\n\nThe US will withdraw 3,000 troops from "
                "Italy by 2027.", data)
    text = to_scenario([r], data, today=dt.date(2026, 12, 1))
    reduces = [a["reduce"] for a in _actions(text) if "reduce" in a]
    assert [(x["in"], x["to"]) for x in reduces] == [("DEU", present - 12000), ("ITA", italy - 3000)]
    assert not any("withdraw" in a for a in _actions(text))
    assert f"a cut of 12,000 from {present:,}" in text
    scenario_from_text(text).run(data)


def test_odd_text_cannot_inject_yaml(tmp_path, data):
    injected = "inj\n  - withdraw: {who: USA, from: {countries: [DEU]}, start: 2026-01-01, by: 2026-12-31} #.txt"
    r = _result("The US will withdraw its troops from Kosovo by 2027, the paper said.", data, name=injected,
                outlet="Wire\u2028 x: y # z", title="A \"title\": with [/b] markup\u2029")
    text = to_scenario([r], data, name="foo: bar\nbaz", today=dt.date(2026, 12, 1))
    actions = _actions(text)
    assert [next(iter(a)) for a in actions] == ["withdraw"]
    assert actions[0]["withdraw"]["from"] == {"countries": ["XKX"]}
    scenario_from_text(text).run(data)


def test_cli_table_output_survives_odd_articles(tmp_path):
    path = tmp_path / "odd.txt"
    path.write_text("US troops [/b] to leave Romania [bold red]now[/]\n\nThe US will withdraw 4,000 troops from "
                    "Romania by 2027.\n", encoding="utf-8")
    store = tmp_path / "r.duckdb"
    run = [sys.executable, "-m", "drawdown"]
    done = subprocess.run(run + ["evidence", "extract", str(path), "--store", str(store)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert "[/b]" in done.stdout
    done = subprocess.run(run + ["evidence", "list", "--store", str(store)], capture_output=True, text=True)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    done = subprocess.run(run + ["evidence", "to-scenario", str(path), "-o", str(tmp_path / "d.yaml"), "--date",
                                 "9999-12-31", "--no-store"], capture_output=True, text=True)
    assert done.returncode == 2 and "--date" in done.stderr and "Traceback" not in done.stderr
