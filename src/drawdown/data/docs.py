"""Generate ``docs/data.md`` from the catalogue, so the data reference never drifts from the tables.

Regenerate with ``drawdown data docs > docs/data.md`` (a test checks it is current).
"""

from __future__ import annotations

from drawdown.data import BASELINE_DATE, RECONCILE_TOLERANCE, Dataset

INTRO = f"""\
# The data

*Generated from `src/drawdown/data/catalogue.yaml` by `drawdown data docs`; do not edit by hand.*

drawdown ships its data as CSV tables under `src/drawdown/data/tables/`, declared in `catalogue.yaml` (type,
unit, required, allowed values, references) and checked on every load and by `drawdown data validate`.
Point `--data DIR` or `$DRAWDOWN_DATA` at a copy to use your own.

## Rules

* **Every figure has a source.** Each row names a source id that resolves in `sources` (title, publisher, URL or
  document, publication date); the row's `as_of` says which date the figure describes. A figure with no public
  source is an `assumption` source whose notes give the reasoning.
* **Conflicts are kept, not hidden.** Where sources disagree (e.g. US troops in Germany: DMDC vs EUCOM vs DW),
  every figure is a row and exactly one is `chosen`; the notes say which rule chose it: official or DMDC figures
  first, then a figure two or more sources agree on, then the most recent. `drawdown data sources --conflicts`
  lists them.
* **Totals reconcile.** Unit-level US elements present on the baseline date ({BASELINE_DATE}) add up to the chosen
  published total of each host country within {RECONCILE_TOLERANCE:.0%}; the remainder that no public source
  breaks down is an explicit `usa_<iso3>_other` element ("other / support"), never a silent gap.
* **Values are dated.** Force elements carry `valid_from`/`valid_to`; a scenario uses the elements valid on each
  phase date (e.g. the German brigade in Lithuania builds up in steps; the 2nd IBCT/101st left Romania on
  2025-10-30).
* **Known gaps and the assumptions standing in for them** are listed in `docs/data-gaps.md`.
"""


def data_markdown(data: Dataset) -> str:
    lines = [INTRO.rstrip(), ""]
    for name, spec in data.specs.items():
        rows = len(data.tables[name])
        lines += [f"## `{name}` ({spec.file}, {rows} rows)", "", spec.description, ""]
        lines += ["| column | type | unit | required | refers to / allowed | meaning |", "|---|---|---|---|---|---|"]
        for column in spec.columns.values():
            allowed = column.references or (", ".join(column.enum) if column.enum else "")
            bounds = []
            if column.min is not None:
                bounds.append(f"≥ {column.min:g}")
            if column.max is not None:
                bounds.append(f"≤ {column.max:g}")
            if bounds:
                allowed = (allowed + "; " if allowed else "") + ", ".join(bounds)
            lines.append(f"| `{column.name}` | {column.type} | {column.unit or ''} | "
                         f"{'yes' if column.required else ''} | {allowed} | {column.description} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
