"""drawdown: plan and stress-test changes to the military posture in Europe.

Python API::

    import drawdown
    result = drawdown.load_scenario("scenarios/post-1990-exit.yaml").run()
    result.to_frame()          # US troops by phase date and country
    result.to_dict()           # the same JSON document `drawdown run --json` prints
"""

from drawdown.data import Dataset, load_dataset
from drawdown.errors import DataError, DrawdownError, ScenarioError, StoreError
from drawdown.scenario import RunResult, Scenario, load_scenario, scenario_from_text

__version__ = "0.1.0"

__all__ = [
    "Dataset", "DataError", "DrawdownError", "RunResult", "Scenario", "ScenarioError", "StoreError",
    "load_dataset", "load_scenario", "scenario_from_text", "__version__",
]
