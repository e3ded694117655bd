"""Named errors of SchoolPlan.

Every error a user can cause is a ``SchoolPlanError`` carrying plain-language problems (what,
where, how to fix). The CLI and the GUI show them; anything else escaping is a bug.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One finding about the input: where it is, what is wrong and how to fix it."""

    problem: str
    fix: str = ""
    file: str = ""
    layer: str = ""
    row: int | None = None
    column: str = ""
    severity: str = "error"  # error: data unusable; warning: repaired or doubtful; info
    code: str = ""  # stable machine-readable name, e.g. "missing_column"
    feature_id: str = ""

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.layer:
            parts.append(f"[{self.layer}]")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return " ".join(parts)

    def __str__(self) -> str:
        text = f"{self.where()}: {self.problem}" if self.where() else self.problem
        if self.fix:
            text += f" — fix: {self.fix}"
        return text


class SchoolPlanError(Exception):
    """Base of every error the user can cause; carries one or more problems."""

    def __init__(self, message: str, problems: list[Problem] | None = None, fix: str = ""):
        self.message = message
        self.fix = fix
        self.problems = list(problems or [])
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt whole (problems and fix too) when it crosses a process boundary.
        return (type(self), (self.message, self.problems, self.fix))

    def __str__(self) -> str:
        lines = [self.message]
        if self.fix:
            lines[0] += f" — fix: {self.fix}"
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class InputError(SchoolPlanError):
    """The input layers cannot be used as they are."""


class RulesError(SchoolPlanError):
    """A rules file or a parameter value is wrong."""


class ProjectError(SchoolPlanError):
    """A project.toml is missing, unreadable or names something that does not exist."""


class ScenarioError(SchoolPlanError):
    """A saved scenario folder is damaged, missing or of an unknown schema version."""


class Canceled(SchoolPlanError):
    """The user canceled a running job."""

    def __init__(self, message: str = "Canceled by the user / 已取消"):
        super().__init__(message)


@dataclass
class ProblemList:
    """Collects problems while checking; raises when any is an error."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: str, fix: str = "", **where: Any) -> None:
        self.problems.append(Problem(problem=problem, fix=fix, **where))

    def warn(self, problem: str, fix: str = "", **where: Any) -> None:
        self.problems.append(Problem(problem=problem, fix=fix, severity="warning", **where))

    def extend(self, other: list[Problem]) -> None:
        self.problems.extend(other)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]
