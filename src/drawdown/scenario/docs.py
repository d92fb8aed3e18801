"""Generate ``docs/scenario-language.md`` from the action classes, so the reference never drifts from the code.

Regenerate with ``drawdown schema --markdown > docs/scenario-language.md`` (a test checks it is current).
"""

from __future__ import annotations

import inspect
import typing

from pydantic.fields import FieldInfo

from drawdown.scenario.model import ACTIONS, Provenance, ScenarioHeader, Selector

INTRO = """\
# The scenario language

*Generated from `src/drawdown/scenario/model.py` by `drawdown schema --markdown`; do not edit by hand.*

A scenario is a YAML file: a header and a list of dated **actions**. drawdown compiles it into a **posture
timeline**: for every phase date (from `start` to `horizon` every `step`), every force element's owner, place,
personnel and combat power, with each change traceable to the line of the action that caused it.

```yaml
name: post-1990-exit
description: US leaves every ally that joined NATO after 1990; keeps Ramstein and the UK air bases
provenance:
  - {outlet: Bild, title: "...", date: 2025-02-19}
start: 2026-01-01
horizon: 2032-12-31
step: quarter
actions:
  - withdraw: {who: USA, from: {nato_joined_after: 1990}, start: 2026-07-01, by: 2028-12-31}
  - keep:     {who: USA, sites: [ramstein, lakenheath, mildenhall]}
  - backfill: {who: {groups: [nato_europe]}, replace: withdrawn, by: 2031-12-31}
```

## How actions combine

* Actions apply in file order at every phase date, after the changes already scheduled in the data (elements
  whose `valid_from`/`valid_to` fall in the phase).
* Time-phased actions ramp linearly from their `start` (default: the scenario start) to `by`; the amount an action
  has reached by a phase date is what it has moved by then. `withdraw` accepts `profile: step` (all at `by`).
* `keep` beats `withdraw`, `reduce` and `shift`: kept forces never move.
* Troops are whole people and are conserved: for every owner and phase, initial + arrivals in the data + deployed
  + backfilled = present + withdrawn + departures in the data.
* Codes are checked against the data: countries (ISO3, `XKX` for Kosovo), sites, force elements, unit types,
  groups and parameters, each with a did-you-mean.
* Contradictions are errors: two `reduce` of the same nation over overlapping dates, a `reduce` below what is
  kept, a `shift` into a place a `withdraw` is emptying, withdrawing or shifting more than is there.
* Every error names `FILE:LINE:COL` and the field; the command exits with status 2.

## Selectors

"""


def _type_name(annotation: object) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names)
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if isinstance(annotation, type):
        return {"str": "text", "int": "integer", "float": "number", "bool": "true/false", "date": "date",
                "Selector": "selector", "Any": "action"}.get(annotation.__name__, annotation.__name__)
    return str(annotation)


def _field_rows(fields: dict[str, FieldInfo]) -> list[str]:
    rows = ["| field | type | required | default | meaning |", "|---|---|---|---|---|"]
    for name, info in fields.items():
        key = info.alias or name
        required = "yes" if info.is_required() else ""
        default = "" if info.is_required() or info.default is None else f"`{info.default}`"
        if info.default_factory is not None:
            default = ""
        description = info.description or ""
        rows.append(f"| `{key}` | {_type_name(info.annotation)} | {required} | {default} | {description} |")
    return rows


def scenario_language_markdown() -> str:
    lines = [INTRO.rstrip(), "", inspect.cleandoc(Selector.__doc__ or "").replace("``", "`"), ""]
    lines += _field_rows(dict(Selector.model_fields))
    lines += ["", "## Header", ""]
    header_fields = {k: v for k, v in ScenarioHeader.model_fields.items()}
    lines += _field_rows(header_fields)
    lines += ["", "Each `provenance` entry:", ""]
    lines += _field_rows(dict(Provenance.model_fields))
    lines += ["", "## Actions", ""]
    for kind, cls in ACTIONS.items():
        lines += [f"### `{kind}`", "", cls.summary, ""]
        lines += _field_rows(dict(cls.model_fields))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
