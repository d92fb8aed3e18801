"""Claims: the annotated set (precision and recall per field), and the rules one by one."""

from __future__ import annotations


import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drawdown.evidence import EvidenceError, extract_text
from drawdown.evidence.evaluate import FIELDS, evaluate, load_annotations
from tests.conftest import SEEDS
from tests.evidence.conftest import ANNOTATIONS, ARTICLES, BLIND, HELDOUT

TARGETS = {"action": (0.9, 0.8), "troops": (0.9, 0.8), "locations": (0.9, 0.8)}


def _claims(text: str, data, **meta):
    return extract_text(text, data, **meta).claims


def test_annotated_set_meets_the_targets(data):
    """Seeds (when ../shared/seeds is there), the articles written for the tests and the held-out set (written
    blind, then used to generalise the rules): precision >= 0.9 and recall >= 0.8 on actions, troop counts and
    places (the issue's targets), and no field below 0.7."""
    golds = load_annotations(ANNOTATIONS, {"own": ARTICLES, "seeds": SEEDS if SEEDS.exists() else None})
    golds += load_annotations(HELDOUT, {"heldout": HELDOUT})
    assert len(golds) >= 14
    result = evaluate(golds, data)
    for field, (p, r) in TARGETS.items():
        row = result["fields"][field]
        assert row["precision"] >= p and row["recall"] >= r, (field, row, result["errors"])
    for field in FIELDS:
        row = result["fields"][field]
        if row["precision"] is not None and field != "unit_type":
            assert row["precision"] >= 0.7 and row["recall"] >= 0.7, (field, row)


def test_blind_set_floor(data):
    """The blind set (written by another author with the rules frozen; never used to change them) is scored by
    `make bench`. Here only a floor below the targets guards against regressions, so that this set never becomes
    something the rules are tuned to."""
    golds = load_annotations(BLIND, {"blind": BLIND})
    assert len(golds) == 10
    result = evaluate(golds, data)
    for field in TARGETS:
        row = result["fields"][field]
        assert row["precision"] >= 0.8 and row["recall"] >= 0.7, (field, row)


def test_the_scorer_counts_errors(data):
    """The scorer is not a rubber stamp: a wrong actor and an extra place cost precision, a missing claim recall."""
    from drawdown.evidence.evaluate import Gold, score

    text = "The US will withdraw 4,000 troops from Poland by 2027.\nItaly will send 200 troops to Kosovo.\n"
    claims = _claims(text, data)
    gold = Gold(ARTICLES / "x", "x", {}, [
        {"anchor": "The US will withdraw", "action": "withdraw", "actor": "DEU", "troops": 4000, "locations": []},
        {"anchor": "Italy will send", "action": "deploy", "actor": "ITA", "troops": 200, "locations": ["XKX"]},
        {"anchor": "to Kosovo", "action": "keep", "actor": "NATO", "locations": ["LTU"]},
    ])
    result = score([(gold, text, claims, {})])
    assert result["fields"]["actor"]["fp"] == 1 and result["fields"]["locations"]["fp"] == 1
    assert result["fields"]["action"]["fn"] == 1 and result["fields"]["troops"]["tp"] == 2


@pytest.mark.parametrize("sentence, troops, high, qualifier", [
    ("The US will send two thousand troops to Poland.", 2000, None, "exact"),
    ("The US will send some 2,500 troops to Poland.", 2500, None, "about"),
    ("The US will send 1.5 thousand soldiers to Poland.", 1500, None, "exact"),
    ("The US will send twenty-five hundred troops to Poland.", 2500, None, "exact"),
    ("The US will send between 10,000 and 15,000 troops to Poland.", 10000, 15000, "range"),
    ("The US will send over 600 troops to Poland.", 600, None, "over"),
    ("The US will send up to 5,000 troops to Poland in 2027.", 5000, None, "up to"),
])
def test_troop_counts(data, sentence, troops, high, qualifier):
    claims = _claims(sentence, data)
    assert len(claims) == 1 and claims[0].countries == ["POL"]
    assert (claims[0].troops, claims[0].troops_high, claims[0].qualifier) == (troops, high, qualifier)


def test_years_money_and_materiel_are_not_claims(data):
    text = ("In 2025 the US spent $3,000 million on bases in Germany. The US sent 40 howitzers to Ukraine. "
            "Berlin will send weapons to Kyiv. The summit of 1990 set the borders.")
    assert _claims(text, data) == []


def test_reduce_takes_the_ceiling(data):
    [claim] = _claims("The Pentagon will cut US troops in Germany from 35,000 to 25,000 by 2028.", data)
    assert (claim.action, claim.actor, claim.troops, claim.troops_role, claim.countries) == (
        "reduce", "USA", 25000, "to", ["DEU"])
    assert claim.time["by"] == "2028-12-31"


@pytest.mark.parametrize("sentence, modality", [
    ("The US will withdraw its troops from Poland.", "plan"),
    ("The US may withdraw its troops from Poland.", "speculation"),
    ("The US denied that it would withdraw its troops from Poland.", "denial"),
    ("There will not be US troops deployed to Ukraine.", "denial"),
    ("Russia demanded the withdrawal of US troops from Poland.", "proposal"),
    ("The US withdrew its troops from Poland.", "fact"),
    ("The US withdrew its troops from Poland, Reuters reported.", "report"),
])
def test_modality(data, sentence, modality):
    claims = _claims(sentence, data)
    assert claims and claims[0].modality == modality


def test_places_and_actors(data):
    [claim] = _claims("Germany will station an armoured brigade of 4,800 soldiers in Lithuania.", data)
    assert (claim.actor, claim.countries, claim.unit_type) == ("DEU", ["LTU"], "armd_bde")
    [claim] = _claims("Russian troops deployed to Belarus and in southern Russia.", data)
    assert (claim.actor, claim.countries) == ("RUS", ["BLR", "RUS"])
    # 'East Germany' is not Germany; a possessive outlet is not a place
    assert _claims("Lavrov wants NATO withdrawing from East Germany.", data) == []
    [claim] = _claims("The US base at Ramstein, Germany, will keep its forces.", data)
    assert claim.sites == ["ramstein"] and claim.countries == []


def test_attribution_chain(data):
    [claim] = _claims("The US may withdraw 3,000 troops from Romania, the Financial Times reported, citing three "
                      "officials.", data, outlet="Example Daily")
    assert claim.attribution == ["Example Daily", "Financial Times", "three officials"]


def test_groups_regions_and_missions(data):
    [claim] = _claims("Moscow demands the withdrawal of US troops from all countries that joined NATO after 1990.", data)
    assert claim.groups == ["post_1990"] and claim.actor == "USA"
    [a, b] = _claims("The US has over 600 troops in KFOR, following Italy's 1,258 troops.", data)
    assert (a.actor, a.troops, b.actor, b.troops) == ("USA", 600, "ITA", 1258)
    assert a.countries == b.countries == ["XKX"]


def test_reading_is_deterministic(data):
    text = (ARTICLES / "own_04_alert.txt").read_text(encoding="utf-8")
    first = [c.to_dict() for c in _claims(text, data)]
    second = [c.to_dict() for c in _claims(text, data)]
    assert first == second and first


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.text(max_size=300), suffix=st.text(max_size=300))
def test_any_text_around_a_claim(data, prefix, suffix):
    """Whatever surrounds it, reading never fails and every span lies in the text with its quote."""
    text = prefix + "\n\nThe US will withdraw 4,000 troops from Poland by 2027.\n\n" + suffix
    try:
        result = extract_text(text, data)
    except EvidenceError as exc:  # only the refusal of text over the size limit is allowed
        assert "characters" in str(exc)
        return
    for claim in result.claims:
        s, e = claim.span
        assert 0 <= s < e <= len(text) and text[s:e] == claim.quote
    assert any(c.troops == 4000 and c.countries == ["POL"] for c in result.claims)


def test_claim_numbers_are_unique_and_in_order(data):
    text = ("Headline for a test article\n\nThe US will withdraw 1,000 troops from Poland and withdraw 1,000 troops "
            "and 2,000 troops from Poland.\nGermany will deploy 500 troops to Lithuania. Britain has 900 troops "
            "stationed in Estonia.\n")
    claims = _claims(text, data)
    assert [c.index for c in claims] == list(range(len(claims)))


@pytest.mark.parametrize("sentence, modality", [
    ("Officials did not rule out that the US will withdraw 5,000 troops from Germany.", "speculation"),
    ("The Pentagon would neither confirm nor deny that it will withdraw 5,000 troops from Germany.", "speculation"),
])
def test_hedges_are_not_denials(data, sentence, modality):
    [claim] = _claims(sentence, data)
    assert claim.modality == modality


def test_rules_from_review(data):
    # "a move" is a noun, not a shift
    claims = _claims("The US will withdraw 5,000 troops from Germany, a move criticised by Berlin.", data)
    assert [c.action for c in claims] == ["withdraw"]
    # a place after "not" is excluded
    [claim] = _claims("The US will withdraw 5,000 troops from Germany, not from Poland.", data)
    assert claim.countries == ["DEU"]
    # a nation governed by a preposition is a place, not the owner of the count
    [claim] = _claims("The US will reduce the number of troops in Germany by 12,000 next year.", data)
    assert (claim.actor, claim.countries, claim.troops) == ("USA", ["DEU"], 12000)


def test_hard_wrapped_wire_copy_keeps_its_lede(data):
    text = ("US trims Romanian presence\n\nBUCHAREST (Example Wire) - The United States will withdraw\n"
            "3,000 troops from Romania by the end of the year, the Romanian defence\n"
            "ministry said on Tuesday, in the largest cut on the eastern flank since 2022.\n")
    claims = _claims(text, data)
    assert [(c.action, c.troops, c.countries) for c in claims] == [("withdraw", 3000, ["ROU"])]
    assert text[claims[0].span[0]:claims[0].span[1]] == claims[0].quote
