"""What the commands share: the layer arguments, one flag per declared rules parameter
(``--groups.radius-km 15``, generated from the parameter declarations), and the exit codes."""

from __future__ import annotations

import argparse

from core.params import ParamSpec
from geo.layers import LAYER_KEYS
from planning.rules import flag_name, iter_specs

EXIT_OK, EXIT_BUG, EXIT_UNUSABLE, EXIT_CANCELED = 0, 1, 2, 130


def add_layer_args(p: argparse.ArgumentParser) -> None:
    """PROJECT or ``--schools FILE[:LAYER] …``, ``--rules FILE`` and ``--lang``."""
    p.add_argument(
        "project",
        nargs="?",
        default=None,
        help="project.toml or a folder holding one (default: the sample county 道县)",
    )
    for key in LAYER_KEYS:
        p.add_argument(
            f"--{key}", metavar="FILE[:LAYER]", help=f"{key} layer file (instead of a project)"
        )
    p.add_argument(
        "--rules", metavar="FILE", help="rules TOML, in the format 'schoolplan rules' prints"
    )
    p.add_argument(
        "--lang", choices=("zh", "en"), default="zh", help="language of messages and exports"
    )


def add_baseline_flag(p: argparse.ArgumentParser) -> None:
    """``--baseline PLAN``: re-zone against a saved plan or scenario (minimal change)."""
    p.add_argument(
        "--baseline",
        metavar="PLAN",
        help="a scenario folder, a plan folder or its plan.gpkg whose zones are the zones now: "
        "a unit keeps its school unless moving is needed (closure, capacity) or saves more than "
        "--catchments.keep-current-km per pupil (default: the population layer's "
        "current_school_<level> columns when it has them)",
    )


def layer_args(args: argparse.Namespace) -> dict[str, str]:
    return {k: getattr(args, k) for k in LAYER_KEYS if getattr(args, k, None)}


def _dest(section: str, spec: ParamSpec) -> str:
    return f"rule:{section}:{spec.name}"


def add_rule_flags(p: argparse.ArgumentParser) -> None:
    """One flag per declared rules parameter, e.g. --groups.radius-km 15."""
    g = p.add_argument_group("rules (each overrides the rules file)")
    for section, spec, value in iter_specs():
        info = spec.info
        unit = f" [{info.unit}]" if info.unit else ""
        choices = f" {{{','.join(info.choices)}}}" if info.choices else ""
        g.add_argument(
            flag_name(section, spec),
            dest=_dest(section, spec),
            metavar="V",
            # argparse formats help with %: a unit like [%] must be escaped.
            help=f"{info.zh} / {info.en}{unit}{choices} (default {value})".replace("%", "%%"),
        )


def rule_overrides(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    """``{section: {name: text}}`` of the rule flags given on the command line."""
    out: dict[str, dict[str, str]] = {}
    for key, value in vars(args).items():
        if key.startswith("rule:") and value is not None:
            _, section, name = key.split(":")
            out.setdefault(section, {})[name] = value
    return out


def formats(text: str) -> tuple[str, ...]:
    """``html,png`` → ('html', 'png'); 'none' or '' → ()."""
    return tuple(f for f in text.split(",") if f and f != "none")
