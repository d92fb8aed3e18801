"""Scenarios: YAML in, validated actions, posture timeline out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from drawdown.data import Dataset, load_dataset
from drawdown.errors import Problem
from drawdown.scenario.model import ACTIONS, json_schema
from drawdown.scenario.parse import ParsedScenario, parse_file, parse_text
from drawdown.scenario.timeline import PostureTimeline, compile_timeline

__all__ = [
    "ACTIONS", "Scenario", "RunResult", "load_scenario", "scenario_from_text", "json_schema", "PostureTimeline",
]


@dataclass
class RunResult:
    """The outcome of running one scenario: its timeline and force balance, with what produced them."""

    scenario: ParsedScenario
    data_version: str
    seed: int
    timeline: PostureTimeline
    balance: Any  # drawdown.balance.BalanceResult (imported lazily to keep the layers one-way)
    run_id: str | None = None
    warnings: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.scenario.name

    def to_frame(self) -> pd.DataFrame:
        """US troops by phase date (rows) and country (columns)."""
        table = self.balance.troops_by_country.pivot_table(
            index="date", columns="country", values="personnel", aggfunc="sum", fill_value=0
        )
        return table.reindex(self.timeline.dates, fill_value=0).astype(int)

    def phases(self) -> list[dict[str, Any]]:
        holdings = self.timeline.holdings
        us = holdings[holdings["owner"] == self.balance.owner]
        out = []
        for phase, date in enumerate(self.timeline.dates):
            rows = us[us["phase"] == phase]
            by_country = rows.groupby("country")["personnel"].sum()
            out.append({
                "date": date.isoformat(),
                "us_troops_total": int(rows["personnel"].sum()),
                "us_troops_by_country": {c: int(v) for c, v in sorted(by_country.items()) if v > 0},
                "us_sites": sorted({s for s in rows["site"].dropna().unique() if s}),
            })
        return out

    def other_changes(self) -> list[str]:
        """One line per non-US force added by the scenario (deployments and backfill) at the horizon."""
        last = self.timeline.at(len(self.timeline.dates) - 1)
        added = last[last["status"].isin(["deployed", "backfill"]) & (last["owner"] != self.balance.owner)]
        lines = []
        for (status, country), rows in added.groupby(["status", "country"]):
            owners = rows.groupby("owner")["personnel"].sum().sort_values(ascending=False, kind="stable")
            top = ", ".join(f"{o} {int(p):,}" for o, p in owners.head(3).items())
            more = f", … ({len(owners)} nations)" if len(owners) > 3 else ""
            verb = "deployed to" if status == "deployed" else "backfill in"
            lines.append(f"{verb} {country} by {self.timeline.dates[-1]}: {int(owners.sum()):,} ({top}{more})")
        return lines

    def to_dict(self) -> dict[str, Any]:
        from drawdown.balance import balance_summary

        t = self.timeline
        return {
            "scenario": self.name,
            "description": self.scenario.header.description,
            "file": self.scenario.path,
            "scenario_sha256": self.scenario.sha256,
            "data_version": self.data_version,
            "seed": self.seed,
            "run_id": self.run_id,
            "start": t.start.isoformat(),
            "horizon": t.horizon.isoformat(),
            "step": t.step,
            "phases": self.phases(),
            **balance_summary(self.balance),
            "alerts": _records(t.alerts.drop_duplicates(subset=["owner", "troops", "notice_days", "to", "action_line"])
                               .drop(columns=["phase", "date"])),
            "commitments": _records(t.commitments.drop_duplicates(subset=["owner", "for", "capability", "action_line"])
                                    .drop(columns=["phase", "date"])),
            "events": _records(t.events),
            "parameters": t.parameters,
            "warnings": [str(w) for w in self.warnings],
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict("records"):
        clean = {}
        for key, value in row.items():
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            elif isinstance(value, float) and pd.isna(value):
                value = None
            elif hasattr(value, "item"):
                value = value.item()
            clean[key] = value
        out.append(clean)
    return out


@dataclass
class Scenario:
    """A parsed scenario file, ready to compile and run against a dataset."""

    parsed: ParsedScenario

    @property
    def name(self) -> str:
        return self.parsed.name

    @property
    def text(self) -> str:
        return self.parsed.text

    def timeline(self, data: Dataset | None = None) -> PostureTimeline:
        return compile_timeline(self.parsed, data or load_dataset())

    def run(self, data: Dataset | None = None, seed: int = 0) -> RunResult:
        """Compile the timeline and compute the force balance. Deterministic; ``seed`` is recorded for the
        stochastic engines that build on this."""
        from drawdown.balance import compute_balance

        data = data or load_dataset()
        timeline = compile_timeline(self.parsed, data)
        balance = compute_balance(timeline, data)
        return RunResult(self.parsed, data.version, seed, timeline, balance, warnings=list(timeline.warnings))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (raises :class:`drawdown.errors.ScenarioError` with FILE:LINE:COL)."""
    return Scenario(parse_file(path))


def scenario_from_text(text: str, path: str = "<scenario>") -> Scenario:
    return Scenario(parse_text(text, path))
