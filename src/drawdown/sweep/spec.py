"""Sweep specifications: which scenario, which inputs to vary and how, which engine, which outputs to keep.

A spec is a small YAML file (see ``docs/sweeps.md``)::

    name: baltic-drivers
    base: ../scenarios/rand-2016-baltic.yaml    # relative to the spec file
    engine: campaign                             # campaign | movement | roadmap | cost
    samples: 2000                                # Monte Carlo samples per point (campaign, movement)
    seed: 0                                      # the same seed at every point: common random numbers
    method: sobol                                # grid | lhs | sobol
    points: 32                                   # lhs: points; sobol: base samples (a power of 2)
    parameters:
      - {path: contingency.warning_days, low: 0, high: 14}
      - {path: campaign.coefficient.movement_efficiency, low: 0.2, high: 0.4}
    outputs: [time_to_objective_hours.Tallinn.p50, prob_objective_by_day.Riga.7]

A parameter path is either a scenario field (``contingency.warning_days``, ``actions.0.withdraw.by``) or a model
parameter that a scenario may ``set`` (``roadmap.hold_days``, ``lift.c17.available``,
``campaign.coefficient.NAME``); an output path is a dotted path into the engine's JSON document.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError

from drawdown.errors import DrawdownError, Location, Problem, ScenarioError, did_you_mean
from drawdown.scenario.parse import Positions, _plain, _pydantic_problems, _walk

#: Largest spec file read, and the most points one sweep may have.
MAX_SPEC_BYTES = 200_000
MAX_POINTS = 1_000_000


class Parameter(BaseModel):
    """One input to vary: a list of values (grid), or a range ``low``-``high`` (lhs, sobol)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str = Field(description="Scenario field or settable model parameter, dotted")
    values: Annotated[list[int | float | str | bool], Field(min_length=1)] | None = Field(
        None, description="Values to try (grid)")
    low: float | None = Field(None, description="Lower end of the range (lhs, sobol)")
    high: float | None = Field(None, description="Upper end of the range (lhs, sobol)")
    integer: bool | None = Field(None, description="Round to whole numbers (default: as the base value is)")

    @model_validator(mode="after")
    def _one_form(self) -> Parameter:
        if self.values is None and (self.low is None or self.high is None):
            raise ValueError("give either values (grid) or low and high (lhs, sobol)")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError("low must be below high")
        return self


class SweepModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Short id")
    description: str = ""
    base: str = Field(description="Base scenario file, relative to the spec")
    engine: Literal["campaign", "movement", "roadmap", "cost"] = "campaign"
    samples: Annotated[int, Field(ge=1, le=1_000_000)] = 2000
    seed: Annotated[int, Field(ge=0)] = 0
    method: Literal["grid", "lhs", "sobol"] = "lhs"
    points: Annotated[int, Field(ge=1, le=MAX_POINTS)] = 32
    points_per_task: Annotated[int, Field(ge=1, le=100_000)] | None = Field(
        None, description="Points per Ray task (default: enough for about a quarter of a second of work)")
    parameters: Annotated[list[Parameter], Field(min_length=1)]
    outputs: Annotated[list[str], Field(min_length=1)]

    @model_validator(mode="after")
    def _method_fits(self) -> SweepModel:
        for p in self.parameters:
            if self.method == "grid" and p.values is None:
                raise ValueError(f"method grid needs values for '{p.path}'")
            if self.method != "grid" and p.low is None:
                raise ValueError(f"method {self.method} needs low and high for '{p.path}'")
        if self.method == "sobol" and (self.points < 4 or self.points & (self.points - 1)):
            raise ValueError(f"sobol needs points to be a power of 2, at least 4 (got {self.points})")
        runs = self.runs()
        if runs > MAX_POINTS:
            raise ValueError(f"the design has {runs:,} points; the limit is {MAX_POINTS:,}")
        return self

    def runs(self) -> int:
        """Points the design will have (computed without building it)."""
        if self.method == "grid":
            total = 1
            for p in self.parameters:
                total *= len(p.values or [])
            return total
        if self.method == "sobol":
            return self.points * (len(self.parameters) + 2)
        return self.points


@dataclass(frozen=True)
class SweepSpec:
    model: SweepModel
    path: str
    text: str
    positions: Positions
    base_path: Path
    data_version: str = ""

    @property
    def sha256(self) -> str:
        """Hash of everything that decides the points and their results: the spec text, the base scenario's
        text, and the versions of the data, of drawdown and of SciPy (which lays out the designs)."""
        import scipy

        from drawdown import __version__

        try:
            base = self.base_path.read_text()
        except OSError:
            base = ""
        identity = "\n".join([self.text, base, self.data_version, __version__, scipy.__version__])
        return hashlib.sha256(identity.encode()).hexdigest()

    @property
    def sweep_id(self) -> str:
        """Stable id: the same spec on the same base scenario, data and code resumes the same sweep; any change
        to them starts a new one (results from different inputs are never mixed)."""
        return f"sweep-{self.model.name}-{self.sha256[:10]}"

    def locate(self, *path: str | int) -> Location:
        return self.positions.locate(path)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and type-check a sweep spec; errors name file, line and field."""
    path = Path(path)
    where = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DrawdownError.single(f"cannot read the sweep spec: {exc.strerror}", Location(where)) from None
    if len(raw) > MAX_SPEC_BYTES:
        raise DrawdownError.single(f"sweep spec is {len(raw):,} bytes; the limit is {MAX_SPEC_BYTES:,}", Location(where))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DrawdownError.single("sweep spec is not UTF-8 text", Location(where)) from None
    from drawdown.scenario.parse import refuse_aliases

    refuse_aliases(text, where)
    try:
        document = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(where, mark.line + 1, mark.column + 1) if mark else Location(where)
        raise DrawdownError.single(f"YAML syntax error: {(exc.problem or 'not valid YAML').strip()}", location) from None
    if not isinstance(document, CommentedMap):
        raise DrawdownError.single("a sweep spec is a mapping (name, base, parameters, outputs, ...)", Location(where, 1, 1))
    positions = Positions(where)
    _walk(document, (), positions)
    try:
        model = SweepModel.model_validate(_plain(document))
    except ValidationError as exc:
        raise ScenarioError(_pydantic_problems(exc, (), positions)) from None
    base = (path.parent / model.base).resolve()
    if not base.is_file():
        raise DrawdownError.single(f"base scenario '{model.base}' not found (looked for {base})",
                                   positions.locate(("base",)), field="base")
    return SweepSpec(model, where, text, positions, base)


def check_paths(spec: SweepSpec, data: Any, base_document: dict[str, Any]) -> list[Problem]:
    """Every parameter path names a scenario field or a settable model parameter (before anything runs)."""
    from drawdown.scenario.model import ScenarioHeader
    from drawdown.scenario.timeline import settable_paths

    settable = settable_paths(data)
    problems = []
    for i, p in enumerate(spec.model.parameters):
        head = p.path.split(".", 1)[0]
        if p.path in settable:  # a model parameter (`set`), even under a scenario field's name (roadmap.hold_days)
            continue
        if head in ScenarioHeader.model_fields:
            if _field_exists(p.path, base_document):
                continue
            known = sorted(_scenario_paths(base_document)) + sorted(settable)
        else:
            known = sorted(settable) + sorted(_scenario_paths(base_document))
        problems.append(Problem(f"unknown parameter path '{p.path}'", spec.locate("parameters", i, "path"),
                                field=f"parameters.{i}.path",
                                suggestion=did_you_mean(p.path, known) or
                                "a scenario field (e.g. contingency.warning_days) or a parameter from "
                                "`drawdown data show parameters`"))
    return problems


def _field_exists(path: str, document: dict[str, Any]) -> bool:
    """A scenario field path is valid if the base scenario has it, or the scenario language allows it there."""
    from drawdown.scenario.model import Contingency, CostBlock, RoadmapBlock, ScenarioHeader

    node: Any = document
    parts = path.split(".")
    for i, part in enumerate(parts):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return False
            node = node[int(part)]
            continue
        if isinstance(node, dict) and part in node:
            node = node[part]
            continue
        # absent in the base: allowed if the model declares it (e.g. contingency.warning_days left to default)
        models = {"": ScenarioHeader, "contingency": Contingency, "roadmap": RoadmapBlock, "cost": CostBlock}
        parent = ".".join(parts[:i])
        model = models.get(parent)
        return model is not None and part in model.model_fields and i == len(parts) - 1
    return True


def _scenario_paths(node: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            out.add(path)
            out |= _scenario_paths(v, path)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out |= _scenario_paths(v, f"{prefix}.{i}")
    return out
