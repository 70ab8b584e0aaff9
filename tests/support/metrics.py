"""Validators for ``--format openmetrics``: the real ``promtool`` and a strict OpenMetrics
parser, so an exposition is checked as both Prometheus 0.0.4 text (what node_exporter's
textfile collector reads) and OpenMetrics 1.0."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

PROMTOOL = "/usr/bin/promtool"  # Debian package prometheus (tests/debian-packages.txt)


def promtool_check(text: str) -> None:
    """``promtool check metrics`` must accept the text with no lint finding at all."""
    binary = shutil.which("promtool") or PROMTOOL
    try:
        proc = subprocess.run(
            [binary, "check", "metrics"], input=text.encode(), capture_output=True, timeout=30
        )
    except FileNotFoundError:
        pytest.fail(f"{PROMTOOL} is missing: install the Debian package 'prometheus'")
    findings = (proc.stdout + proc.stderr).decode()
    assert proc.returncode == 0 and not findings.strip(), findings


def openmetrics(text: str) -> dict[str, list[Any]]:
    """Family name -> samples, by the strict OpenMetrics parser (raises on any error)."""
    return {f.name: list(f.samples) for f in text_string_to_metric_families(text)}


def valid_exposition(text: str) -> dict[str, list[Any]]:
    """Both validators; returns the parsed families."""
    promtool_check(text)
    return openmetrics(text)


def value(families: dict[str, list[Any]], name: str, **labels: str) -> float:
    """The one sample of ``name`` whose labels include ``labels``."""
    hits = [
        s.value
        for s in families.get(name, [])
        if all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(hits) == 1, (name, labels, families.get(name))
    return hits[0]
