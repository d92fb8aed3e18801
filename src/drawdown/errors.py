"""Errors that carry a location (file, line, column) and a suggestion.

Every user-facing failure in drawdown is a :class:`DrawdownError`; the CLI prints it as
``FILE:LINE:COL: message (did you mean 'X'?)`` and exits with status 2, never with a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """A place in a source file; line and column are 1-based, ``None`` when unknown."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


@dataclass
class Problem:
    """One thing wrong with an input, where it is, and what might fix it."""

    message: str
    location: Location | None = None
    field: str | None = None
    suggestion: str | None = None

    def __str__(self) -> str:
        text = self.message
        if self.field:
            text = f"{self.field}: {text}"
        if self.suggestion:
            text = f"{text} ({self.suggestion})"
        return f"{self.location}: {text}" if self.location else text


@dataclass
class DrawdownError(Exception):
    """A user-facing error: one or more problems, each with a location where known."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    @classmethod
    def single(
        cls,
        message: str,
        location: Location | None = None,
        field: str | None = None,
        suggestion: str | None = None,
    ) -> DrawdownError:
        return cls([Problem(message, location, field, suggestion)])


class ScenarioError(DrawdownError):
    """A scenario file that cannot be parsed, validated or compiled."""


class DataError(DrawdownError):
    """Bundled or user-supplied data tables that fail validation."""


class StoreError(DrawdownError):
    """The results store cannot be opened or the requested run does not exist."""


def did_you_mean(word: str, choices: Iterable[str], n: int = 1) -> str | None:
    """Return "did you mean 'X'?" for the closest of ``choices`` to ``word``, or ``None``."""
    options = [str(c) for c in choices]
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f"did you mean '{lowered[word.lower()]}'?"
    matches = difflib.get_close_matches(word, options, n=n, cutoff=0.6)
    if not matches:
        matches = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)]
    if not matches:
        return None
    return "did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"
