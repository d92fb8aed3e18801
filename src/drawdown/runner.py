"""Run scenarios and record them: the one place that ties engines to the store.

The CLI and the web call these functions; they never compute themselves.
"""

from __future__ import annotations

from drawdown import __version__
from drawdown.data import Dataset
from drawdown.scenario import RunResult, Scenario
from drawdown.store import Store


def run_scenario(scenario: Scenario, data: Dataset, *, seed: int = 0, store: Store | None = None) -> RunResult:
    """Run one scenario; with a store, record it (begin → compute → complete in one transaction)."""
    if store is None:
        return scenario.run(data, seed=seed)
    parsed = scenario.parsed
    run_id = store.begin_run(
        scenario=parsed.name, scenario_path=parsed.path, scenario_text=parsed.text,
        scenario_sha256=parsed.sha256, data_version=data.version, code_version=__version__, seed=seed,
        parameters={},
    )
    try:
        result = scenario.run(data, seed=seed)
        result.run_id = run_id
        timeline = result.timeline
        store.complete_run(
            run_id,
            {"posture": timeline.holdings, "withdrawals": timeline.withdrawals, "events": timeline.events},
            result.to_dict(),
        )
    except BaseException as exc:
        try:
            store.fail_run(run_id, f"{type(exc).__name__}: {exc}")
        except Exception:  # the store itself is the problem; the original error matters more
            pass
        raise
    return result
