"""The analyser against real bounces: Sisimai's published results for sisimai/set-of-emails.

Floors: every labelled file detected, reason and status each agreeing on >= 95% of labelled
recipients, nothing in not-bounces/ counted as a bounce. The confusion of disagreements is
printed (run with ``-s``) so the next rule to write is visible.
"""

import json
import os
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from mailrep.bounces import analyse

REPO = Path(__file__).resolve().parents[2]
SET = REPO / ".." / "shared" / "corpus" / "set-of-emails"
FLOOR = 0.95
# Measured at the last commit; the analyser is below the floor (see docs/benchmarks.rst).
BELOW_FLOOR = pytest.mark.xfail(
    strict=True, reason="measured below the 95% floor (reason 78.5%, status 88.7%)"
)


def need(path: Path) -> Path:
    """Skip outside CI when the corpus is absent; in CI a missing corpus is a failure."""
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"corpus {path} is missing and CI=true")
        pytest.skip(f"corpus {path} is absent (not in CI)")
    return path


@pytest.fixture(scope="module")
def labelled() -> list[dict]:
    return json.loads((need(SET) / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def analyses(labelled):
    files = sorted({row["file"] for row in labelled})
    return {f: analyse((SET / f).read_bytes()) for f in files}


def _agreement(labelled, analyses, field):
    agree, confusion, examples = 0, Counter(), defaultdict(list)
    for row in labelled:
        rcpts = analyses[row["file"]].recipients
        got = getattr(rcpts[row["index"] - 1], field) if len(rcpts) >= row["index"] else "MISSING"
        want = row[field] or None
        if (got or None) == want:
            agree += 1
        else:
            confusion[(want, got)] += 1
            examples[(want, got)].append(row["file"])
    rate = agree / len(labelled)
    print(f"\n{field}: {agree}/{len(labelled)} = {rate:.3f}")
    for (want, got), n in confusion.most_common():
        print(f"  {want} -> {got}: {n}  e.g. {', '.join(examples[(want, got)][:3])}")
    return rate


@pytest.mark.xfail(strict=True, reason="3 of 412 labelled files not recognised yet")
def test_every_labelled_file_is_recognised_as_a_report(analyses):
    missed = sorted(f for f, a in analyses.items() if a.kind == "not-bounce")
    print(f"\nnot recognised: {len(missed)} of {len(analyses)}: {missed[:20]}")
    assert missed == []


@BELOW_FLOOR
def test_reason_agrees_with_sisimai_on_95_percent(labelled, analyses):
    assert _agreement(labelled, analyses, "reason") >= FLOOR


@BELOW_FLOOR
def test_status_agrees_with_sisimai_on_95_percent(labelled, analyses):
    assert _agreement(labelled, analyses, "status") >= FLOOR


def test_nothing_in_not_bounces_counts_as_a_bounce():
    folder = need(SET / "not-bounces")
    kinds = {p.name: analyse(p.read_bytes()).kind for p in sorted(folder.iterdir())}
    assert kinds
    assert [n for n, k in kinds.items() if k == "bounce"] == []
