"""Broken scenario files give one clear error each, at the right FILE:LINE:COL, never a traceback."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drawdown.errors import ScenarioError
from drawdown.scenario import scenario_from_text

HEADER = """\
name: broken
start: 2026-01-01
horizon: 2030-12-31
step: quarter
"""

# (description, actions text, expected line, text the error points at on that line, message, suggestion)
CASES = [
    ("unknown action", "actions:\n  - withdrawl: {who: USA, from: [XKX], by: 2027-01-01}\n", 6, "withdrawl",
     "unknown action 'withdrawl'", "did you mean 'withdraw'"),
    ("unknown field", "actions:\n  - withdraw: {who: USA, frm: [XKX], by: 2027-01-01}\n", 6, "frm",
     "unknown field 'frm'", "did you mean 'from'"),
    ("missing by", "actions:\n  - withdraw: {who: USA, from: [XKX]}\n", 6, "withdraw", "missing required field 'by'", None),
    ("bad date", "actions:\n  - withdraw: {who: USA, from: [XKX], by: 2027-13-01}\n", 6, "2027-13-01", "by", None),
    ("negative troops", "actions:\n  - shift: {who: USA, troops: -5, from: [DEU], to: [POL], by: 2027-01-01}\n",
     6, "-5", "greater than 0", None),
    ("unknown selector key", "actions:\n  - withdraw: {who: USA, from: {country: [DEU]}, by: 2027-01-01}\n", 6, "country:",
     "unknown field 'country'", "did you mean 'countries'"),
    ("not a mapping", "actions:\n  - withdraw\n", 6, "withdraw", "one-key mapping", None),
]

SEMANTIC = [
    ("lowercase country", "actions:\n  - withdraw: {who: USA, from: {countries: [deu]}, by: 2027-01-01}\n", 6, "deu",
     "unknown country 'deu'", "did you mean 'DEU'"),
    ("unknown country", "actions:\n  - withdraw: {who: USA, from: {countries: [DEUX]}, by: 2027-01-01}\n", 6, "DEUX",
     "unknown country 'DEUX'", "did you mean 'DEU'"),
    ("unknown site", "actions:\n  - keep: {who: USA, sites: [ramstien]}\n", 6, "ramstien", "unknown site 'ramstien'",
     "did you mean 'ramstein'"),
    ("unknown unit type", "actions:\n  - deploy: {who: [FRA], to: UKR, troops: 100, unit_type: mech_bdx, by: 2027-01-01}\n",
     6, "mech_bdx", "unknown unit type 'mech_bdx'", "did you mean 'mech_bde'"),
    ("date outside horizon", "actions:\n  - withdraw: {who: USA, from: [XKX], by: 2035-01-01}\n", 6, "2035-01-01",
     "outside the scenario", None),
    ("by before start", "actions:\n  - withdraw: {who: USA, from: [XKX], start: 2028-01-01, by: 2027-01-01}\n", 6, "2027-01-01",
     "before the action's start", None),
    ("unknown group", "actions:\n  - withdraw: {who: USA, from: {groups: [baltics]}, by: 2027-01-01}\n", 6, "baltics",
     "unknown group 'baltics'", "did you mean 'baltic'"),
    ("unknown parameter", "actions:\n  - set: {path: campaign.baltic.warning_day, value: 7}\n", 6, "campaign.baltic.warning_day,",
     "unknown parameter", "did you mean 'campaign.baltic.warning_days'"),
    ("parameter type", "actions:\n  - set: {path: campaign.baltic.warning_days, value: soon}\n", 6, "soon",
     "takes a int", None),
    ("reduce to more than present", "actions:\n  - reduce: {who: USA, in: XKX, to: 100000, by: 2027-01-01}\n", 6, "100000",
     "would add troops", "use deploy"),
    ("shift more than present", "actions:\n  - shift: {who: USA, troops: 50000, from: [XKX], to: [POL], by: 2027-01-01}\n",
     6, "50000", "only", None),
    ("nothing to withdraw", "actions:\n  - withdraw: {who: USA, from: [ISL], by: 2027-01-01}\n", 6, "[ISL]",
     "nothing to withdraw", None),
    ("overlapping reduces",
     "actions:\n  - reduce: {who: USA, in: DEU, to: 20000, by: 2028-01-01}\n"
     "  - reduce: {who: USA, in: DEU, to: 10000, by: 2029-01-01}\n", 7, "10000", "contradicts the reduce at line 6", None),
    ("shift into a withdrawal",
     "actions:\n  - withdraw: {who: USA, from: {nato_joined_after: 1990}, start: 2026-06-01, by: 2028-01-01}\n"
     "  - shift: {who: USA, troops: 1000, from: [DEU], to: [POL], by: 2027-01-01}\n", 7, "[POL]",
     "while the withdraw at line 6", None),
    ("keep below ceiling",
     "actions:\n  - keep: {who: USA, countries: [DEU]}\n  - reduce: {who: USA, in: DEU, to: 1000, by: 2028-01-01}\n",
     7, "1000,", "contradicts keep", None),
    ("deploy without armed forces", "actions:\n  - deploy: {who: [ISL], to: UKR, troops: 10, unit_type: inf_bn, by: 2027-01-01}\n",
     6, "[ISL]", "no armed forces", None),
]


@pytest.mark.parametrize("description,actions,line,marker,message,suggestion", CASES + SEMANTIC,
                         ids=[c[0] for c in CASES + SEMANTIC])
def test_broken_scenario_is_located(data, description, actions, line, marker, message, suggestion):
    text = HEADER + actions
    column = text.splitlines()[line - 1].index(marker) + 1  # 1-based column of the text the error is about
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text, "broken.yaml").timeline(data)
    problems = caught.value.problems
    assert problems, description
    first = problems[0]
    assert first.location is not None
    assert first.location.file == "broken.yaml"
    assert (first.location.line, first.location.column) == (line, column), str(first)
    assert message in str(first)
    if suggestion:
        assert suggestion in str(first)
    assert str(first).startswith(f"broken.yaml:{line}:{column}: ")


def test_yaml_syntax_error_has_location():
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(HEADER + "actions: [\n  - withdraw: {who: USA\n", "bad.yaml")
    problem = caught.value.problems[0]
    assert "YAML syntax error" in problem.message
    assert problem.location.line is not None


def test_horizon_before_start():
    text = "name: x\nstart: 2030-01-01\nhorizon: 2026-01-01\n"
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text, "x.yaml")
    assert "x.yaml:3:10" in str(caught.value)


def test_every_problem_is_reported_not_just_the_first(data):
    text = HEADER + textwrap.dedent("""\
        actions:
          - withdraw: {who: USA, from: {countries: [DEUX]}, by: 2027-01-01}
          - keep: {who: USA, sites: [ramstien]}
        """)
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text, "two.yaml").timeline(data)
    assert len(caught.value.problems) == 2


# --- generated broken files ---------------------------------------------------------------------------
FIELDS = {
    "withdraw": {"who": "USA", "from": "[XKX]", "by": "2027-01-01"},
    "reduce": {"who": "USA", "in": "DEU", "to": "20000", "by": "2027-01-01"},
    "shift": {"who": "USA", "troops": "100", "from": "[DEU]", "to": "[POL]", "by": "2027-01-01"},
    "deploy": {"who": "[FRA]", "to": "UKR", "troops": "100", "unit_type": "mech_bde", "by": "2027-01-01"},
}


@st.composite
def broken_action(draw):
    kind = draw(st.sampled_from(sorted(FIELDS)))
    fields = dict(FIELDS[kind])
    mutation = draw(st.sampled_from(["drop", "rename", "garbage"]))
    target = draw(st.sampled_from(sorted(fields)))
    if mutation == "drop":
        if target == "who":  # who has a default for most actions; dropping it is not an error
            target = "by"
        del fields[target]
    elif mutation == "rename":
        fields[target + "x"] = fields.pop(target)
    else:
        fields[target] = draw(st.sampled_from(["-1", "notadate", "{}", "[[]]", "ZZZ9", "2099-01-01"]))
    body = ", ".join(f"{k}: {v}" for k, v in fields.items())
    return kind, target, mutation, f"actions:\n  - {kind}: {{{body}}}\n"


@settings(max_examples=60, deadline=None)
@given(broken_action())
def test_generated_broken_files_fail_cleanly_on_the_action_line(data, case):
    kind, target, mutation, actions = case
    try:
        scenario_from_text(HEADER + actions, "gen.yaml").timeline(data)
    except ScenarioError as exc:
        for problem in exc.problems:
            assert problem.location is not None and problem.location.file == "gen.yaml"
            assert problem.location.line == 6, str(problem)  # the action's line, not line 1
            assert problem.message
        return
    # only these mutations can stay inside the language: a later 'by' that is still in the horizon is
    # impossible here (2099 is outside), so nothing else may pass
    raise AssertionError(f"a broken {kind} ({mutation} {target}) was accepted:\n{actions}")
