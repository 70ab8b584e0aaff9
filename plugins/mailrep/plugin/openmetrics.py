"""The text exposition that Prometheus scrapes: OpenMetrics 1.0, readable as Prometheus 0.0.4.

Every family is a gauge: what a plugin run measures (listings now, bounces in a window,
seconds a lookup took) can go down as well as up, so none of it is a counter. Gauges with
``# HELP``/``# TYPE`` (and ``# UNIT`` where the name ends in a unit) and a closing
``# EOF`` are valid OpenMetrics, and a Prometheus 0.0.4 parser reads the same text because it
takes ``# UNIT`` and ``# EOF`` for comments. That matters because node_exporter's textfile
collector, where cron and timer runs leave their output, parses the 0.0.4 format.

No sample carries a timestamp: the textfile collector refuses them. Label values are escaped
(backslash, double quote, newline), stripped of other control characters and cut to a
length, because some come from mail a stranger sent (the zone a bounce cites).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")

#: Longest label value kept; longer ones are cut and end in "...".
MAX_LABEL_VALUE = 128

Labels = tuple[tuple[str, str], ...]


class Sample(NamedTuple):
    labels: Labels
    value: float


class Family(NamedTuple):
    """One metric family: a gauge with its help text and, maybe, its unit."""

    name: str
    help: str
    samples: list[Sample]
    unit: str = ""


def gauge(name: str, help: str, value: float, unit: str = "", **labels: str) -> Family:
    """A family of one sample: the common case."""
    return Family(name, help, [Sample(tuple(labels.items()), value)], unit)


def label_value(text: str) -> str:
    """``text`` made safe as a label value (before escaping): no control characters, at most
    :data:`MAX_LABEL_VALUE` characters, valid UTF-8."""
    text = _CONTROL.sub("?", text.encode("utf-8", "replace").decode("utf-8"))
    if len(text) > MAX_LABEL_VALUE:
        text = text[: MAX_LABEL_VALUE - 3] + "..."
    return text


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _check_family(family: Family) -> None:
    """Programming errors, caught by the tests: names, units and unique label sets."""
    if not NAME.match(family.name) or family.name.startswith("__"):
        raise ValueError(f"bad metric name {family.name!r}")
    if family.unit and not family.name.endswith("_" + family.unit):
        raise ValueError(f"{family.name}: the unit {family.unit!r} must end the name")
    if '"' in family.help or "\n" in family.help or "\\" in family.help:
        raise ValueError(f"{family.name}: help text must be plain")
    seen: set[Labels] = set()
    for sample in family.samples:
        names = [k for k, _v in sample.labels]
        if any(not LABEL.match(k) or k.startswith("__") for k in names):
            raise ValueError(f"{family.name}: bad label name in {names}")
        if len(set(names)) != len(names):
            raise ValueError(f"{family.name}: a label given twice in {names}")
        key = tuple(sorted(sample.labels))
        if key in seen:
            raise ValueError(f"{family.name}: label set {key} given twice")
        seen.add(key)


def _sample_line(name: str, labels: Labels, value: float) -> str:
    if not labels:
        return f"{name} {_number(value)}"
    inner = ",".join(f'{k}="{_escape(label_value(v))}"' for k, v in labels)
    return f"{name}{{{inner}}} {_number(value)}"


def render(families: Iterable[Family], common: Sequence[tuple[str, str]] = ()) -> str:
    """The exposition: each family with samples once, ``common`` labels first on every
    sample, ``# EOF`` last. Families without samples are left out."""
    lines: list[str] = []
    seen: set[str] = set()
    for family in families:
        if not family.samples:
            continue
        if family.name in seen:
            raise ValueError(f"family {family.name} given twice")
        seen.add(family.name)
        family = family._replace(
            samples=[Sample((*common, *s.labels), s.value) for s in family.samples]
        )
        _check_family(family)
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} gauge")
        if family.unit:
            lines.append(f"# UNIT {family.name} {family.unit}")
        lines.extend(_sample_line(family.name, s.labels, s.value) for s in family.samples)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
