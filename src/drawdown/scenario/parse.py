"""YAML text → typed scenario, with every error pinned to ``FILE:LINE:COL``.

ruamel.yaml's round-trip loader keeps the line and column of every key and value; we record them by path
(``("actions", 2, "withdraw", "from", "countries", 0)``) so that pydantic's error locations and our own
semantic checks can both point at the exact place in the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError

from drawdown.errors import Location, Problem, ScenarioError, did_you_mean
from drawdown.scenario.model import ACTIONS, Action, ScenarioHeader

Path_ = tuple[str | int, ...]

#: Largest scenario file we read (a scenario is a few kilobytes; this guards against mistakes and abuse).
MAX_SCENARIO_BYTES = 1_000_000
#: Most phases a scenario may have (50 years of months).
MAX_PHASES = 600


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that leaves timestamps as text, so that a bad date such as 2027-13-01 becomes a
    located validation error instead of an exception inside the YAML library."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)


@dataclass
class Positions:
    """Line/column (1-based) of every key and value in a YAML document, by path."""

    file: str
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Sequence[str | int], *, key: bool = False) -> Location:
        """Location of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        if "countries" in path:  # a shorthand list (`from: [DEU, POL]`) has no `countries` key in the file
            i = path.index("countries")
            bare = path[:i] + path[i + 1:]
            if bare in self.values and bare != path[:i]:
                line, column = self.values[bare]
                return Location(self.file, line, column)
        while True:
            table = self.keys if key else self.values
            if path in table:
                line, column = table[path]
                return Location(self.file, line, column)
            if path in self.values:
                line, column = self.values[path]
                return Location(self.file, line, column)
            if not path:
                return Location(self.file, 1, 1)
            path = path[:-1]


def refuse_aliases(text: str, path: str) -> None:
    """Scenarios never need YAML aliases (``*name``), and nested aliases make a few hundred bytes expand into
    gigabytes ("billion laughs"): refuse them before anything expands."""
    from ruamel.yaml.events import AliasEvent

    try:
        for event in YAML(typ="rt").parse(text):
            if isinstance(event, AliasEvent):
                mark = event.start_mark
                raise ScenarioError.single("YAML aliases (*name) are not allowed; write the value out",
                                           Location(path, mark.line + 1, mark.column + 1))
    except MarkedYAMLError:
        return  # a syntax error: the loader reports it, located


def _walk(node: Any, path: Path_, positions: Positions) -> None:
    if isinstance(node, CommentedMap):
        for key in node:
            try:
                kline, kcol = node.lc.key(key)
                vline, vcol = node.lc.value(key)
            except (KeyError, TypeError, AttributeError):
                continue
            positions.keys[path + (str(key),)] = (kline + 1, kcol + 1)
            positions.values[path + (str(key),)] = (vline + 1, vcol + 1)
            _walk(node[key], path + (str(key),), positions)
    elif isinstance(node, CommentedSeq):
        for index, item in enumerate(node):
            try:
                line, col = node.lc.item(index)
            except (KeyError, TypeError, AttributeError):
                continue
            positions.values[path + (index,)] = (line + 1, col + 1)
            _walk(item, path + (index,), positions)


def _plain(node: Any) -> Any:
    """ruamel containers → plain dicts and lists (pydantic wants plain data)."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, dt.datetime):
        return node.date() if node.time() == dt.time() else node
    if isinstance(node, str):
        return str(node)
    return node


@dataclass
class ParsedAction:
    """One action as written: its typed body, index in the file, and where it is."""

    index: int
    action: Action
    path: Path_
    location: Location

    @property
    def kind(self) -> str:
        return self.action.kind


@dataclass
class ParsedScenario:
    """A scenario that parsed and type-checked; semantic checks against data come in compile."""

    header: ScenarioHeader
    actions: list[ParsedAction]
    positions: Positions
    text: str
    path: str

    @property
    def name(self) -> str:
        return self.header.name

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def locate(self, path: Sequence[str | int], *, key: bool = False) -> Location:
        return self.positions.locate(path, key=key)


def _pydantic_problems(error: ValidationError, prefix: Path_, positions: Positions) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # pydantic tags union branches with the branch type name: drop those parts
        loc = tuple(p for p in loc if p not in {"str", "int", "float", "bool", "list[str]", "Selector", "literal['withdrawn']"})
        full = prefix + loc
        field_name = ".".join(str(p) for p in full[len(prefix) :]) or None
        message = item["msg"]
        suggestion = None
        if item["type"] == "extra_forbidden":
            parent = full[:-1]
            message = f"unknown field '{full[-1]}'"
            allowed = _allowed_fields(prefix, parent)
            suggestion = did_you_mean(str(full[-1]), allowed) if allowed else None
            if suggestion is None and allowed:
                suggestion = "allowed: " + ", ".join(sorted(allowed))
            location = positions.locate(full, key=True)
        elif item["type"] == "missing":
            message = f"missing required field '{full[-1]}'"
            location = positions.locate(full[:-1], key=True)
        else:
            if "input" in item and not isinstance(item["input"], (dict, list)):
                message = f"{message} (got {item['input']!r})"
            location = positions.locate(full)
        problems.append(Problem(message, location, field=field_name, suggestion=suggestion))
    # "unknown field 'frm' (did you mean 'from'?)" already explains "missing required field 'from'"
    explained = {p.suggestion.split("'")[1] for p in problems if p.suggestion and p.suggestion.startswith("did you mean")}
    return [p for p in problems if not (p.message.startswith("missing required field")
                                        and p.message.split("'")[1] in explained)]


def _allowed_fields(prefix: Path_, parent: Path_) -> list[str]:
    from drawdown.scenario.model import Provenance, Selector

    if parent[:1] == ("provenance",):
        return list(Provenance.model_fields)
    if len(parent) == len(prefix):  # the action body itself, or the header
        if prefix and prefix[-1] in ACTIONS:
            cls = ACTIONS[str(prefix[-1])]
            return [f.alias or n for n, f in cls.model_fields.items()]
        return list(ScenarioHeader.model_fields)
    return list(Selector.model_fields)


def parse_text(text: str, path: str = "<scenario>") -> ParsedScenario:
    """Parse and type-check scenario text. Raises :class:`ScenarioError` listing every problem found."""
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    try:
        refuse_aliases(text, path)
        document = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        problem = (exc.problem or exc.context or "not valid YAML").strip()
        raise ScenarioError.single(f"YAML syntax error: {problem}", location) from None
    except Exception as exc:  # ruamel raises a few non-marked errors (e.g. duplicate keys)
        raise ScenarioError.single(f"YAML error: {exc}".splitlines()[0], Location(path)) from None
    if not isinstance(document, CommentedMap):
        raise ScenarioError.single(
            "a scenario must be a YAML mapping with name, start, horizon and actions", Location(path, 1, 1)
        )
    positions = Positions(path)
    _walk(document, (), positions)
    data = _plain(document)

    problems: list[Problem] = []
    header: ScenarioHeader | None = None
    try:
        header = ScenarioHeader.model_validate(data)
    except ValidationError as exc:
        problems.extend(p for p in _pydantic_problems(exc, (), positions))

    actions: list[ParsedAction] = []
    raw_actions = data.get("actions") or []
    if not isinstance(raw_actions, list):
        problems.append(Problem("actions must be a list", positions.locate(("actions",))))
        raw_actions = []
    for index, item in enumerate(raw_actions):
        base: Path_ = ("actions", index)
        if not isinstance(item, dict) or len(item) != 1:
            problems.append(
                Problem(
                    "each action is a one-key mapping, e.g. '- withdraw: {who: USA, ...}'",
                    positions.locate(base),
                )
            )
            continue
        (kind, body), = item.items()
        if kind not in ACTIONS:
            problems.append(
                Problem(
                    f"unknown action '{kind}'",
                    positions.locate(base + (kind,), key=True),
                    suggestion=did_you_mean(kind, ACTIONS) or "actions: " + ", ".join(ACTIONS),
                )
            )
            continue
        if not isinstance(body, dict):
            problems.append(Problem(f"'{kind}' needs a mapping of fields", positions.locate(base + (kind,))))
            continue
        try:
            action = ACTIONS[kind].model_validate(body)
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc, base + (kind,), positions))
            continue
        actions.append(ParsedAction(index, action, base + (kind,), positions.locate(base + (kind,), key=True)))

    if header is not None:
        months = (header.horizon.year - header.start.year) * 12 + header.horizon.month - header.start.month
        steps = months // {"month": 1, "quarter": 3, "year": 12}[header.step]
        if steps > MAX_PHASES:
            problems.append(Problem(
                f"{steps:,} phases from {header.start} to {header.horizon} by {header.step}; at most {MAX_PHASES:,}",
                positions.locate(("horizon",)), field="horizon", suggestion="use a longer step or a nearer horizon"))
        if header.horizon <= header.start:
            problems.append(
                Problem(
                    f"horizon {header.horizon} is not after start {header.start}",
                    positions.locate(("horizon",)),
                    field="horizon",
                )
            )
    if problems:
        raise ScenarioError(sorted(problems, key=_position))
    assert header is not None
    return ParsedScenario(header, actions, positions, text, path)


def _position(problem: Problem) -> tuple[int, int]:
    location = problem.location
    if location is None:
        return (0, 0)
    return (location.line or 0, location.column or 0)


def parse_file(path: str | Path) -> ParsedScenario:
    """Read and parse a scenario file; unreadable, oversized or non-UTF-8 files are clear errors."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError.single("no such file", Location(str(path)))
    if path.is_dir():
        raise ScenarioError.single("is a directory, expected a scenario .yaml file", Location(str(path)))
    size = path.stat().st_size
    if size > MAX_SCENARIO_BYTES:
        raise ScenarioError.single(
            f"file is {size:,} bytes; scenarios are limited to {MAX_SCENARIO_BYTES:,}", Location(str(path))
        )
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise ScenarioError.single("binary file (contains NUL bytes); expected a scenario .yaml file",
                                   Location(str(path)))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError.single(
            f"not UTF-8 text (byte {exc.start}); is this a scenario file?", Location(str(path))
        ) from None
    return parse_text(text, str(path))
