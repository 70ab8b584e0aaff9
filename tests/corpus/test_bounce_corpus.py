"""The analyser against real bounces: Sisimai's published results for sisimai/set-of-emails.

Issue 4 sets the target: every labelled file detected, reason and status each agreeing with
Sisimai on >= 95% of labelled recipients, nothing in not-bounces/ counted as a bounce. The
analyser does not reach that target yet, so the tests assert *regression floors* instead:
the figures measured at the last commit, rounded down to the percent (``REASON_FLOOR``,
``STATUS_FLOOR``) and the number of labelled files recognised (``RECOGNISED_FLOOR``). They
are plain assertions, with no xfail or skip when CI=true: a change that makes agreement
worse fails. Each test prints the measured figure next to the 95% target, and the confusion
of disagreements (expected -> got) or the missed files (run with ``-s``), so the next rule
to write is visible. Raise a floor whenever the measured figure rises past it.
"""

import json
import os
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from mailrep.bounces import analyse

REPO = Path(__file__).resolve().parents[2]
SET = REPO / ".." / "shared" / "corpus" / "set-of-emails"
TARGET = 0.95  # issue 4's accuracy target for reason and status
# Regression floors: measured at the last commit, rounded down (see docs/benchmarks.rst).
REASON_FLOOR = 0.92
STATUS_FLOOR = 0.94
RECOGNISED_FLOOR = 412  # labelled files recognised as a report, of 412


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
    print(f"\n{field}: {agree}/{len(labelled)} = {rate:.3f} (target {TARGET:.2f})")
    for (want, got), n in confusion.most_common():
        print(f"  {want} -> {got}: {n}  e.g. {', '.join(examples[(want, got)][:3])}")
    return rate


def test_labelled_files_recognised_as_reports_do_not_fall_below_the_floor(analyses):
    missed = sorted(f for f, a in analyses.items() if a.kind == "not-bounce")
    recognised = len(analyses) - len(missed)
    print(f"\nrecognised: {recognised} of {len(analyses)} (target: all; floor "
          f"{RECOGNISED_FLOOR}); missed: {missed[:20]}")
    assert recognised >= RECOGNISED_FLOOR


def test_reason_agreement_with_sisimai_does_not_fall_below_the_floor(labelled, analyses):
    assert _agreement(labelled, analyses, "reason") >= REASON_FLOOR


def test_status_agreement_with_sisimai_does_not_fall_below_the_floor(labelled, analyses):
    assert _agreement(labelled, analyses, "status") >= STATUS_FLOOR


def test_nothing_in_not_bounces_counts_as_a_bounce():
    folder = need(SET / "not-bounces")
    kinds = {p.name: analyse(p.read_bytes()).kind for p in sorted(folder.iterdir())}
    assert kinds
    assert [n for n, k in kinds.items() if k == "bounce"] == []
