"""Declare a parameter once: default, labels (zh/en), unit, valid range and source.

The rules file, the CLI flags and the GUI form are all generated from these declarations, so a
parameter never has two definitions.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from core.errors import RulesError


@dataclass(frozen=True)
class ParamInfo:
    zh: str
    en: str
    unit: str = ""
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    source: str = ""
    help_zh: str = ""
    help_en: str = ""

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang.startswith("zh") else self.en

    def help(self, lang: str = "zh") -> str:
        return self.help_zh if lang.startswith("zh") else self.help_en


def param(
    default: Any,
    *,
    zh: str,
    en: str,
    unit: str = "",
    lo: float | None = None,
    hi: float | None = None,
    choices: tuple[str, ...] = (),
    source: str = "",
    help_zh: str = "",
    help_en: str = "",
) -> Any:
    """A dataclass field carrying its declaration in ``metadata['param']``."""
    info = ParamInfo(zh, en, unit, lo, hi, tuple(choices), source, help_zh, help_en)
    return field(default=default, metadata={"param": info})


@dataclass(frozen=True)
class ParamSpec:
    """One declared field of a params dataclass, with its type and default."""

    name: str
    kind: type
    default: Any
    info: ParamInfo


def specs(cls_or_obj: Any) -> list[ParamSpec]:
    """The declared parameters of a params dataclass, in declaration order."""
    cls = cls_or_obj if isinstance(cls_or_obj, type) else type(cls_or_obj)
    out = []
    for f in dataclasses.fields(cls):
        info = f.metadata.get("param")
        if info is None:
            continue
        out.append(ParamSpec(f.name, type(f.default), f.default, info))
    return out


def coerce(spec: ParamSpec, value: Any, where: str) -> Any:
    """Convert ``value`` to the parameter's type and check range and choices."""
    try:
        if spec.kind is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("true", "yes", "1", "是", "on"):
                    value = True
                elif low in ("false", "no", "0", "否", "off"):
                    value = False
                else:
                    raise ValueError(value)
            elif not isinstance(value, bool):
                raise ValueError(value)
        elif spec.kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            value = int(value)
        elif spec.kind is float:
            if isinstance(value, bool):
                raise ValueError(value)
            value = float(value)
            if not math.isfinite(value):  # NaN passes every range comparison
                raise ValueError(value)
        elif spec.kind is str:
            # CLI values arrive as text already; a number or list in the file is a mistake.
            if not isinstance(value, str):
                raise TypeError(value)
    except (TypeError, ValueError, OverflowError):
        raise RulesError(
            f"{where}: '{value}' is not a valid {spec.kind.__name__} ({spec.info.en} / {spec.info.zh})",
            fix=f"give a {spec.kind.__name__}, e.g. {spec.default!r}",
        ) from None
    info = spec.info
    if info.choices and value not in info.choices:
        raise RulesError(
            f"{where}: '{value}' is not one of {', '.join(info.choices)} ({info.en} / {info.zh})",
            fix=f"use one of: {', '.join(info.choices)}",
        )
    if spec.kind in (int, float):
        if (info.lo is not None and value < info.lo) or (info.hi is not None and value > info.hi):
            raise RulesError(
                f"{where}: {value} {info.unit} is outside the valid range "
                f"{info.lo}–{info.hi} {info.unit} ({info.en} / {info.zh})",
                fix=f"choose a value between {info.lo} and {info.hi}",
            )
    return value


def replace_checked(obj: Any, values: dict[str, Any], where: str) -> Any:
    """``dataclasses.replace`` with every value coerced and range-checked; unknown names refused."""
    by_name = {s.name: s for s in specs(obj)}
    clean = {}
    for name, value in values.items():
        spec = by_name.get(name)
        if spec is None:
            raise RulesError(
                f"{where}: unknown parameter '{name}'",
                fix="valid names: " + ", ".join(sorted(by_name)),
            )
        clean[name] = coerce(spec, value, f"{where}.{name}")
    return dataclasses.replace(obj, **clean)
