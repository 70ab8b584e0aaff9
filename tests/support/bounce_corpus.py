"""Scoring the bounce analyser on the shared corpus, per source.

Used by tests/corpus/test_bounce_corpus.py (which asserts the targets) and by
``bench/dump_bounces.py score`` (which prints the same table). Sources: set-of-emails, and
each ext-bounces project (bounce_email, bounceparser, flanker, mailgem). Two methods, as the
issue measures them:

* set-of-emails: the label's recipient index (1-based, in the report's order) picks our
  recipient; a file with fewer recipients than the index is a miss.
* ext-bounces: the label's recipient address picks ours, compared without case (we keep
  the address as the report writes it; the labeller lower-cases some and not others); an
  address we do not list is a miss ("recipients found").

A file counts as recognised when any of its messages is a report of some kind (bounce,
delay, feedback, success, auto-reply), as ``check_bounce_rate`` would sort it. A negative
is *counted* when we call it a bounce with a recipient the tally would count.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailrep.bounce.analysis import analyse
from mailrep.bounce.reasons import Reason
from mailrep.mail.local import read_file

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / ".." / "shared" / "corpus"
SET = CORPUS / "set-of-emails"
EXT = CORPUS / "ext-bounces"
EXT_SOURCES = ("bounce_email", "bounceparser", "flanker", "mailgem")


@dataclass(frozen=True)
class FileAnalysis:
    """What a corpus file holds: its messages' recipients in order, and whether any of them
    was recognised as a report (``kind`` of the first that was, else "not-bounce")."""

    kind: str
    recipients: tuple
    counted: int  # recipients the tally would count as bounces


def analyse_file(path: Path) -> FileAnalysis:
    """Read as ``check_bounce_rate --dir`` reads it: a file starting with an mbox ``From_``
    line holds several messages (two of the corpus do), as Sisimai also reads it."""
    found = [analyse(m.raw) for m in read_file(str(path))]
    kinds = [a.kind for a in found if a.kind != "not-bounce"]
    counted = sum(
        1
        for a in found
        if a.kind == "bounce"
        for r in a.recipients
        if r.cause != "ignore" and r.action != "delayed"
    )
    return FileAnalysis(
        kinds[0] if kinds else "not-bounce",
        tuple(r for a in found for r in a.recipients),
        counted,
    )


@dataclass
class Score:
    """Agreement of one source with its labels."""

    source: str
    labelled: int = 0  # labelled recipients
    found: int = 0
    reason: int = 0
    status: int = 0
    cause: int = 0  # the coarse cause of the label's reason (hard/soft/block/throttle)
    files: int = 0  # bounce (and feedback) files
    recognised: int = 0
    negatives: int = 0
    negatives_counted: list[str] = field(default_factory=list)
    missed_files: list[str] = field(default_factory=list)
    confusion: dict[str, Counter] = field(
        default_factory=lambda: {"reason": Counter(), "status": Counter()}
    )
    examples: dict[tuple[str, Any, Any], list[str]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def rate(self, what: str) -> float:
        return getattr(self, what) / self.labelled if self.labelled else 1.0

    def add(self, fname: str, row: dict, got: Any) -> None:
        self.labelled += 1
        if got is None:
            for f in ("reason", "status"):
                self.confusion[f][(row[f] or None, "MISSING")] += 1
            return
        self.found += 1
        want_cause = _cause_of(row["reason"])
        if want_cause is None or want_cause == got.cause:
            self.cause += 1
        for f in ("reason", "status"):
            want, have = row[f] or None, getattr(got, f) or None
            if want == have:
                setattr(self, f, getattr(self, f) + 1)
            else:
                self.confusion[f][(want, have)] += 1
                self.examples[(f, want, have)].append(fname)

    def line(self) -> str:
        return (
            f"{self.source:14s} recipients {self.labelled:3d}  reason {self.rate('reason'):6.1%}"
            f"  status {self.rate('status'):6.1%}  cause {self.rate('cause'):6.1%}"
            f"  found {self.rate('found'):6.1%}"
            f"  files recognised {self.recognised}/{self.files}"
            f"  negatives counted {len(self.negatives_counted)}/{self.negatives}"
        )

    def table(self, field_name: str, top: int = 12) -> list[str]:
        out = []
        for (want, have), n in self.confusion[field_name].most_common(top):
            ex = ", ".join(self.examples[(field_name, want, have)][:3])
            out.append(f"    {want} -> {have}: {n}  {ex}")
        return out


def _cause_of(reason: str | None) -> str | None:
    """The cause our table gives the label's reason (None for a name we do not know)."""
    try:
        return Reason(reason).cause if reason else None
    except ValueError:
        return None


def score_set_of_emails() -> Score:
    s = Score("set-of-emails")
    rows = json.loads((SET / "expected.json").read_text(encoding="utf-8"))
    files = sorted({r["file"] for r in rows})
    analyses = {f: analyse_file(SET / f) for f in files}
    for row in rows:
        rcpts = analyses[row["file"]].recipients
        s.add(row["file"], row, rcpts[row["index"] - 1] if len(rcpts) >= row["index"] else None)
    s.files = len(files)
    s.missed_files = sorted(f for f, a in analyses.items() if a.kind == "not-bounce")
    s.recognised = s.files - len(s.missed_files)
    for p in sorted((SET / "not-bounces").iterdir()):
        s.negatives += 1
        if analyse_file(p).counted:
            s.negatives_counted.append(p.name)
    return s


def _ext_rows() -> list[dict]:
    return json.loads((EXT / "expected.json").read_text(encoding="utf-8"))


def score_ext(source: str) -> Score:
    """One ext-bounces project: its labelled recipients, its bounce files, its negatives."""
    s = Score(source)
    rows = [r for r in _ext_rows() if r["file"].split("/")[1] == source]
    analyses = {f: analyse_file(EXT / f) for f in sorted({r["file"] for r in rows})}
    for f, a in analyses.items():
        if f.startswith("negatives/"):
            s.negatives += 1
            if a.counted:
                s.negatives_counted.append(f)
        else:
            s.files += 1
            if a.kind == "not-bounce":
                s.missed_files.append(f)
    s.recognised = s.files - len(s.missed_files)
    for row in rows:
        if row["kind"] == "negative" or not row["recipient"]:
            continue
        want = row["recipient"].lower()
        got = next(
            (r for r in analyses[row["file"]].recipients if r.recipient.lower() == want), None
        )
        s.add(row["file"], row, got)
    return s


def total(name: str, scores: list[Score]) -> Score:
    t = Score(name)
    for s in scores:
        for f in (
            "labelled",
            "found",
            "reason",
            "status",
            "cause",
            "files",
            "recognised",
            "negatives",
        ):
            setattr(t, f, getattr(t, f) + getattr(s, f))
        t.negatives_counted += s.negatives_counted
        t.missed_files += s.missed_files
        for f in ("reason", "status"):
            t.confusion[f].update(s.confusion[f])
        for k, v in s.examples.items():
            t.examples[k] += v
    return t


def report(scores: list[Score], details: bool = True) -> str:
    lines = [s.line() for s in scores]
    if details:
        for s in scores:
            for f in ("reason", "status"):
                if s.confusion[f]:
                    lines.append(f"  {s.source} {f} disagreements (want -> got):")
                    lines += s.table(f)
            if s.missed_files:
                lines.append(f"  {s.source} files not recognised: {s.missed_files}")
            if s.negatives_counted:
                lines.append(f"  {s.source} negatives counted: {s.negatives_counted}")
    return "\n".join(lines)
