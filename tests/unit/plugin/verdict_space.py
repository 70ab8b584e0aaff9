"""The verdict space, generated: zones, targets, per-zone outcomes and thresholds.

Property tests build lookup :class:`~mailrep.dnsbl.lookup.Report` objects from these
strategies (no server, no resolver) and run the real Resource/Context/Summary of a plugin
through the runtime's output path; :func:`check_output` states what must hold whatever
was generated.
"""

from __future__ import annotations

import io
import ipaddress
import json
import re
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout
from typing import Any, NamedTuple

import nagiosplugin
from hypothesis import strategies as st
from mailrep.dnsbl.catalogue import Answer, Meaning, Zone
from mailrep.dnsbl.lookup import Exchange, Item, Report, Status, Verdict, ZoneHealth, applies
from mailrep.dnsbl.selftest import ResolverFault
from mailrep.plugin.runtime import run

STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

ZONES = [
    Zone("v4a.example", frozenset({"ip4"}), test_listed="127.0.0.2", test_clean="127.0.0.1"),
    Zone("v4b.example", frozenset({"ip4"}), test_listed="127.0.0.2", test_clean="127.0.0.1"),
    Zone("v6.example", frozenset({"ip6"}), test_listed="::ffff:7f00:2", test_clean="::1"),
    Zone("both.example", frozenset({"ip4", "ip6"}), test_listed="127.0.0.2"),
    Zone("dom.example", frozenset({"domain"}), test_listed="test", test_clean="invalid"),
]

#: Outside text as lists and servers may send it: control characters included.
NASTY = st.text(alphabet=st.sampled_from(["a", " ", ";", "|", "\r", "\n", "\x1b", "\x85", "é"]))

#: What a failed query is reported as (each error code, timeout, truncation, ...).
ERRORS = [
    "timeout",
    "SERVFAIL",
    "REFUSED",
    "FORMERR",
    "NOTIMP",
    "truncated answer, TCP retry failed",
    "CNAME loop",
    "answer for another question",
    "error answer 127.255.255.254 (public resolver)",
    "error answer 127.0.0.1 (undocumented code)",
]

#: Per (target, zone): what the zone said.
OUTCOMES = ["listed", "policy", "nxdomain", "clean-code", *ERRORS]

#: Per zone: how its RFC 5782 self-test went ("none": not run, --no-self-test).
HEALTH = ["ok", "ok", "ok", "broken", "suspect", "error", "none"]


def _item(kind: str, n: int, label: str) -> Item:
    if kind == "v4":
        return Item.for_address(ipaddress.ip_address(f"192.0.2.{n}"), label)
    if kind == "v6":
        return Item.for_address(ipaddress.ip_address(f"2001:db8::{n:x}"), label)
    return Item.for_domain(f"d{n}.example.test")


@st.composite
def targets(draw: Any, kinds: Sequence[str] = ("v4", "v6", "domain")) -> list[Item]:
    """1-4 targets: addresses (some resolved from a hostname, as labels say) and domains."""
    picks = draw(
        st.lists(
            st.tuples(
                st.sampled_from(list(kinds)),
                st.integers(1, 40),
                st.sampled_from(["", "mail.example.test"]),
            ),
            min_size=1,
            max_size=4,
        )
    )
    items = {}
    for kind, n, label in picks:
        item = _item(kind, n, "" if kind == "domain" else label)
        items.setdefault(item.text, item)
    return list(items.values())


def make_verdict(item: Item, zone: Zone, outcome: str, health: str, txt: str) -> Verdict:
    status, answers, error = Status.CLEAN, (), ""
    if outcome == "listed":
        status, answers = Status.LISTED, (Answer("127.0.0.2", Meaning.LISTING, "spam"),)
    elif outcome == "policy":
        status, answers = Status.POLICY, (Answer("127.0.0.10", Meaning.POLICY, "policy"),)
    elif outcome == "clean-code":
        answers = (Answer("127.0.0.100", Meaning.CLEAN, "not listed"),)
    elif outcome != "nxdomain":
        status, error = Status.ERROR, outcome + txt
    if health == "broken" and status in (Status.LISTED, Status.POLICY):
        status, error = Status.BROKEN, "zone is broken (lists its never-listed test entry)"
    kept_txt = (f"Listed{txt}",) if status in (Status.LISTED, Status.POLICY) else ()
    query = f"q.{item.text}.{zone.name}"
    return Verdict(item, zone, zone.name, status, answers, kept_txt, error, 0.01, query, query)


def make_health(zone: Zone, health: str) -> ZoneHealth | None:
    if health == "none":
        return None
    return ZoneHealth(
        zone,
        zone.name,
        broken=health == "broken",
        suspect=health == "suspect",
        error="timeout" if health == "error" else "",
        detail=f"self-test {health}" if health in ("broken", "suspect") else "",
    )


@st.composite
def reports(draw: Any, items: Sequence[Item]) -> Report:
    """A report for ``items`` on 1-4 zones, every outcome and self-test state possible."""
    zones = draw(
        st.lists(st.sampled_from(ZONES), min_size=1, max_size=4, unique_by=lambda z: z.name)
    )
    health = {z.name: draw(st.sampled_from(HEALTH)) for z in zones}
    verdicts = [
        make_verdict(item, zone, draw(st.sampled_from(OUTCOMES)), health[zone.name], draw(NASTY))
        for zone in zones
        for item in items
        if applies(zone, item)
    ]
    tested = {
        z.name: h
        for z in zones
        if (h := make_health(z, health[z.name])) is not None and any(applies(z, i) for i in items)
    }
    fault = None
    if draw(st.integers(0, 9)) == 0:  # every test entry failed alike: the resolver's fault
        fault = ResolverFault(("127.0.0.54",), "answers NXDOMAIN for", len(zones))
    # A hostname whose AAAA (or A) lookup failed: an error of that target.
    hostnames = sorted({i.label for i in items if i.label})
    failed = draw(st.lists(st.sampled_from(hostnames), unique=True)) if hostnames else []
    target_errors = tuple(f"{h}: AAAA lookup failed ({draw(NASTY)}SERVFAIL)" for h in failed)
    exchanges = tuple(
        Exchange("query", v.query_shown, "A", "127.0.0.1:53", "NOERROR", v.codes, v.error, 0.01)
        for v in verdicts
    )
    return Report(verdicts, tested, list(zones), 0.05, len(verdicts), fault, exchanges,
                  target_errors)  # fmt: skip


def _range(options: Sequence[str | None]) -> Any:
    return st.sampled_from(list(options))


@st.composite
def thresholds(draw: Any, listing: tuple[str, str] = ("-w", "-c")) -> list[str]:
    """Threshold options, tolerant ones included (``-c 1``, ``--policy-warning 1``)."""
    pairs = [
        (listing[0], draw(_range([None, "0", "1", "3"]))),
        (listing[1], draw(_range(["0", "1", "2", "5"]))),
        ("--policy-warning", draw(_range(["0", "1", "5"]))),
        ("--policy-critical", draw(_range([None, "2"]))),
        ("--errors-warning", draw(_range(["0", "2", "100"]))),
        ("--errors-critical", draw(_range([None, "3", "100"]))),
    ]
    return [x for flag, value in pairs if value is not None for x in (flag, value)]


class Printed(NamedTuple):
    code: int
    text: str
    doc: dict[str, Any]

    @property
    def first(self) -> str:
        return self.text.split("\n", 1)[0]

    @property
    def summary(self) -> str:
        return self.first.split(" | ", 1)[0].split(" - ", 1)[1]

    @property
    def perfdata(self) -> dict[str, str]:
        if " | " not in self.first:
            return {}
        out = {}
        for item in self.first.split(" | ", 1)[1].split():
            label, _, rest = item.partition("=")
            out[label] = rest.split(";")[0]
        return out

    def value(self, label: str) -> float:
        return float(re.sub(r"[a-z%]+$", "", self.perfdata[label]))


def run_both(
    label: str,
    parser: Callable[[], Any],
    build: Callable[[Any, Any], Any],
    argv: list[str],
    defaults: Callable[[], dict[str, Any]],
    verbose: int = 0,
) -> Printed:
    """Run one built check through the runtime in both formats."""
    outputs = []
    for fmt in ("nagios", "json"):
        buf = io.StringIO()
        code = -1
        with redirect_stdout(buf):
            try:
                run(label, parser(), build, [*argv, "--format", fmt, *["-v"] * verbose],
                    json_defaults=defaults)  # fmt: skip
            except SystemExit as done:
                code = int(done.code or 0)
        outputs.append((code, buf.getvalue()))
    (code, text), (json_code, json_text) = outputs
    assert code == json_code, (text, json_text)
    return Printed(code, text, json.loads(json_text))


def within(spec: str | None, value: float) -> bool:
    """Does ``value`` stay inside a Nagios range (nagiosplugin decides, never this test)?"""
    return spec is None or nagiosplugin.Range(spec).match(value)


def option(argv: list[str], flag: str) -> str | None:
    return argv[argv.index(flag) + 1] if flag in argv else None


def check_output(out: Printed, label: str, keys: Sequence[str], verbose: int = 0) -> None:
    """What holds for every run: the formats agree, and nothing breaks a consumer."""
    state = STATES[out.code]
    assert out.first.startswith(f"{label} {state} - "), out.first
    assert out.doc["state"] == state and out.doc["exit_code"] == out.code
    assert out.doc["summary"] == out.summary
    assert {p["label"]: f"{p['value']}{p['uom']}" for p in out.doc["perfdata"]} == {
        k: v for k, v in out.perfdata.items()
    }
    assert ";" not in out.first.split(" | ", 1)[0], out.first
    assert not CONTROL.search(out.text.replace("\n", "")), out.text
    assert not CONTROL.search(json.dumps(out.doc, ensure_ascii=False)), out.doc
    assert out.doc["version"] and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", out.doc["time"])
    assert set(keys) <= set(out.doc), sorted(out.doc)
    if verbose == 0:
        assert len(out.text.encode()) <= 8 * 1024


def zone(name: str) -> Zone:
    return next(z for z in ZONES if z.name == name)


def report_of(
    items: Sequence[Item],
    outcomes: dict[tuple[str, str], str],
    health: dict[str, str] | None = None,
    zones: Sequence[str] = (),
) -> Report:
    """A report by hand: ``outcomes[(target, zone)]`` (default nxdomain) on ``zones``."""
    picked = [zone(n) for n in (zones or sorted({z for _i, z in outcomes}))]
    states = {z.name: (health or {}).get(z.name, "ok") for z in picked}
    verdicts = [
        make_verdict(i, z, outcomes.get((i.text, z.name), "nxdomain"), states[z.name], "")
        for z in picked
        for i in items
        if applies(z, i)
    ]
    tested = {z.name: h for z in picked if (h := make_health(z, states[z.name])) is not None}
    return Report(verdicts, tested, picked, 0.05, len(verdicts))


def address(text: str, label: str = "") -> Item:
    return Item.for_address(ipaddress.ip_address(text), label)
