"""Dump the analyser's full result for every corpus file, and compare two dumps.

    .venv/bin/python bench/dump_bounces.py dump OUT.json
    .venv/bin/python bench/dump_bounces.py diff BEFORE.json AFTER.json [-v]
    .venv/bin/python bench/dump_bounces.py score [-q]

``dump`` reads every file under ../shared/corpus/set-of-emails (not-bounces/ included) and
../shared/corpus/ext-bounces the way tests/corpus/test_bounce_corpus.py reads them
(``mail.local.read_file``: an mbox file holds several messages, each analysed) and writes,
per file and message, the kind and every recipient field the analysis gives. A refactoring
that changes no behaviour leaves the dump byte-identical.

``diff`` says what changed between two dumps, per source (set-of-emails and each
ext-bounces project), and, where a changed recipient has a label, whether the change gained
or lost agreement with it: how a new rule is judged on every corpus file, labelled or not.
``score`` prints agreement with the labels per source (tests/support/bounce_corpus.py, the
same figures tests/corpus/test_bounce_corpus.py asserts), with the confusion tables.
Nothing of the corpus is written outside OUT.json; keep that file out of the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / ".." / "shared" / "corpus"
SET = CORPUS / "set-of-emails"
EXT = CORPUS / "ext-bounces"
FIELDS = ("reason", "status", "replycode", "cause", "hardbounce", "action")


def _recipient(r: Any) -> dict[str, Any]:
    return {
        "recipient": r.recipient,
        "action": r.action,
        "reason": str(r.reason),
        "status": r.status,
        "replycode": r.replycode,
        "cause": str(r.cause),
        "hardbounce": r.hardbounce,
        "zone": r.citation.zone if r.citation else None,
        "blocked_ip": r.citation.ip if r.citation else None,
        "remote_host": r.remote_host,
        "diagnostic": r.diagnostic,
    }


def corpus_files() -> list[tuple[str, Path]]:
    """(key, path) of every corpus file; the key names the corpus and the file within it."""
    out = [(f"set-of-emails/{p.relative_to(SET)}", p) for p in sorted(SET.rglob("*.eml"))]
    out += [(f"ext-bounces/{p.relative_to(EXT)}", p) for p in sorted(EXT.rglob("*.eml"))]
    return out


def dump(target: Path) -> None:
    from mailrep.bounce.analysis import analyse
    from mailrep.mail.local import read_file

    result: dict[str, list[dict[str, Any]]] = {}
    for key, path in corpus_files():
        messages = []
        for m in read_file(str(path)):
            a = analyse(m.raw)
            messages.append(
                {
                    "kind": a.kind,
                    "original_message_id": a.original_message_id,
                    "recipients": [_recipient(r) for r in a.recipients],
                }
            )
        result[key] = messages
    target.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(result)} files -> {target}")


def source_of(key: str) -> str:
    """set-of-emails, or the ext-bounces project directory (bounce_email, flanker, ...)."""
    parts = key.split("/")
    return parts[0] if parts[0] == "set-of-emails" else f"ext:{parts[2]}"


def labels() -> dict[tuple[str, int], dict[str, Any]]:
    """(file key, 1-based recipient index) -> the published label."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for base, name in ((SET, "set-of-emails"), (EXT, "ext-bounces")):
        for row in json.loads((base / "expected.json").read_text(encoding="utf-8")):
            if row.get("index"):
                out[(f"{name}/{row['file']}", row["index"])] = row
    return out


def _flat(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for m in messages for r in m["recipients"]]


def _kind(messages: list[dict[str, Any]]) -> str:
    kinds = [m["kind"] for m in messages if m["kind"] != "not-bounce"]
    return kinds[0] if kinds else "not-bounce"


def diff(before_path: Path, after_path: Path, verbose: bool) -> int:
    before = json.loads(before_path.read_text(encoding="utf-8"))
    after = json.loads(after_path.read_text(encoding="utf-8"))
    known = labels()
    changed_files: Counter[str] = Counter()
    score: Counter[tuple[str, str, str]] = Counter()  # (source, field, gained|lost)
    lines = []
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key, []), after.get(key, [])
        if b == a:
            continue
        src = source_of(key)
        changed_files[src] += 1
        if _kind(b) != _kind(a):
            lines.append(f"{key}: kind {_kind(b)} -> {_kind(a)}")
        rb, ra = _flat(b), _flat(a)
        for i in range(max(len(rb), len(ra))):
            x = rb[i] if i < len(rb) else {}
            y = ra[i] if i < len(ra) else {}
            label = known.get((key, i + 1))
            for f in ("recipient", *FIELDS, "zone", "blocked_ip", "remote_host"):
                if x.get(f) == y.get(f):
                    continue
                mark = ""
                if label is not None and f in ("reason", "status") and label.get(f):
                    was, now = x.get(f) == label[f], y.get(f) == label[f]
                    if was != now:
                        score[(src, f, "gained" if now else "lost")] += 1
                        mark = "  [+]" if now else "  [-]"
                lines.append(f"{key} #{i + 1} {f}: {x.get(f)!r} -> {y.get(f)!r}{mark}")
            if verbose and x.get("diagnostic") != y.get("diagnostic"):
                lines.append(f"{key} #{i + 1} diagnostic changed")
    for line in lines:
        print(line)
    print(f"\nfiles changed per source: {dict(changed_files) or 'none'}")
    for (src, f, way), n in sorted(score.items()):
        print(f"  {src} {f} {way}: {n}")
    return 1 if changed_files else 0


def score(details: bool) -> None:
    sys.path.insert(0, str(REPO))
    from tests.support import bounce_corpus as bc

    ext = [bc.score_ext(src) for src in bc.EXT_SOURCES]
    scores = [bc.score_set_of_emails(), *ext, bc.total("ext-bounces", ext)]
    print(bc.report(scores, details))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    c = sub.add_parser("diff")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    c.add_argument("-v", "--verbose", action="store_true")
    s = sub.add_parser("score")
    s.add_argument("-q", "--quiet", action="store_true", help="the per-source lines only")
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args.out)
    elif args.cmd == "score":
        score(not args.quiet)
    else:
        sys.exit(diff(args.before, args.after, args.verbose))


if __name__ == "__main__":
    main()
