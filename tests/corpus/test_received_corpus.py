"""The parser against real Received values: SpamAssassin 4.0.1's reading and Stalwart's tables.

SpamAssassin's client IP is the reference: every line where it found one must give the same
address here, unless ``received_expectations.toml`` lists the line with our address and why
ours is right. Reverse name, HELO and by-host are compared as agreement rates (printed; run
with ``-s``), held above a floor so a regression shows.
"""

import json
import os
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from mailrep.relay.received import normalise_ip, parse_received

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / ".." / "shared" / "corpus"
LINES = CORPUS / "received-lines.jsonl"
STALWART = CORPUS / "received-stalwart.json"
EXPECTATIONS = Path(__file__).with_name("received_expectations.toml")


def need(path: Path) -> Path:
    """Skip outside CI when the corpus is absent; in CI a missing corpus is a failure."""
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"corpus file {path} is missing and CI=true")
        pytest.skip(f"corpus file {path} is absent (not in CI)")
    return path


@pytest.fixture(scope="module")
def sa_lines() -> list[dict]:
    with need(LINES).open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [r for r in rows if r["spamassassin_4_0_1"] and r["spamassassin_4_0_1"].get("ip")]


@pytest.fixture(scope="module")
def expected_disagreements() -> dict[str, dict]:
    with EXPECTATIONS.open("rb") as fh:
        entries = tomllib.load(fh).get("disagreement", [])
    return {e["received"]: e for e in entries}


def test_every_expectation_gives_a_reason(expected_disagreements):
    assert all(e.get("reason", "").strip() for e in expected_disagreements.values())


def test_client_ip_agrees_with_spamassassin_except_listed_lines(sa_lines, expected_disagreements):
    unlisted = []
    for row in sa_lines:
        hop = parse_received(row["received"])
        ours = hop.ip if hop else None
        theirs = row["spamassassin_4_0_1"]["ip"]
        listed = expected_disagreements.get(row["received"])
        if listed is not None:
            assert ours == listed["ip"], f"listed line now gives {ours!r}: {row['received']}"
        elif ours != theirs:
            unlisted.append(f"ours={ours!r} spamassassin={theirs!r}: {row['received']}")
    assert not unlisted, "\n".join(unlisted)


def test_no_stale_expectations(sa_lines, expected_disagreements):
    by_value = {row["received"]: row for row in sa_lines}
    stale = []
    for value, entry in expected_disagreements.items():
        row = by_value.get(value)
        if row is None or row["spamassassin_4_0_1"]["ip"] == entry["ip"]:
            stale.append(value)
    assert not stale, "expectations that no longer disagree (or no longer exist):\n" + "\n".join(
        stale
    )


def _same(ours: str | None, theirs: str) -> bool:
    """SpamAssassin writes literals as !1.2.3.4! and empty for unknown; compare the names."""

    def norm(x: str | None) -> str:
        return (x or "").strip("[]!").rstrip(".").lower()

    return norm(ours) == norm(theirs)


@pytest.mark.parametrize(("field", "floor"), [("rdns", 0.95), ("helo", 0.95), ("by", 0.99)])
def test_name_fields_agree_with_spamassassin(sa_lines, field, floor):
    agree = 0
    for row in sa_lines:
        hop = parse_received(row["received"])
        if hop is not None and _same(getattr(hop, field), row["spamassassin_4_0_1"][field]):
            agree += 1
    rate = agree / len(sa_lines)
    print(f"{field}: {agree}/{len(sa_lines)} = {rate:.1%} agree with SpamAssassin 4.0.1")
    assert rate >= floor


@pytest.fixture(scope="module")
def stalwart() -> list[dict]:
    with need(STALWART).open(encoding="utf-8") as fh:
        return json.load(fh)


def _stalwart_date(d: dict) -> datetime | None:
    offset = timedelta(hours=d["tz_hour"], minutes=d["tz_minute"])
    try:
        return datetime(
            d["year"],
            d["month"],
            d["day"],
            d["hour"],
            d["minute"],
            d["second"],
            tzinfo=timezone(-offset if d["tz_before_gmt"] else offset),
        )
    except (ValueError, KeyError):
        return None


def test_stalwart_client_ip_matches_after_normalisation(stalwart):
    """Stalwart keeps ::ffff: mapped forms; we return the IPv4 a blocklist knows."""
    wrong = []
    for case in stalwart:
        expected = case["expected"].get("from_ip")
        if expected is None:
            continue
        hop = parse_received(case["header"])
        if (hop.ip if hop else None) != normalise_ip(expected):
            wrong.append(case["header"])
    assert not wrong, "\n".join(wrong)


def _stalwart_fields(case: dict) -> dict[str, object]:
    e = case["expected"]
    fields: dict[str, object] = {}
    if (e.get("by") or {}).get("Name"):
        fields["by"] = e["by"]["Name"].rstrip(".")
    if (e.get("from") or {}).get("Name"):
        fields["from_name"] = e["from"]["Name"]
    if (e.get("helo") or {}).get("Name"):
        fields["helo"] = e["helo"]["Name"]
    if "from_iprev" in e:
        fields["rdns"] = e["from_iprev"].rstrip(".")
    if "id" in e:
        fields["id"] = e["id"]
    if "for_" in e:
        fields["envelope_for"] = e["for_"]
    if e.get("date"):  # null where Stalwart could not read the date
        fields["timestamp"] = _stalwart_date(e["date"])
    return fields


@pytest.mark.parametrize(
    ("field", "floor"),
    # Floors sit just under today's rates. Known, accepted differences: Stalwart cuts ids at
    # "/", reads two-digit years as 19xx and "PDT" as UTC, names "from" inside a leading
    # comment; ours reads the zone names email.utils knows.
    [
        ("by", 0.95),
        ("from_name", 0.95),
        ("helo", 0.95),
        ("rdns", 0.75),
        ("id", 0.95),
        ("envelope_for", 0.95),
        ("timestamp", 0.93),
    ],
)
def test_stalwart_fields_agree(stalwart, field, floor):
    agree = total = 0
    for case in stalwart:
        expected = _stalwart_fields(case)
        if field not in expected:
            continue
        total += 1
        hop = parse_received(case["header"])
        if hop is not None and getattr(hop, field) == expected[field]:
            agree += 1
    rate = agree / total
    print(f"stalwart {field}: {agree}/{total} = {rate:.1%}")
    assert rate >= floor


def test_authenticated_agrees_with_spamassassin(sa_lines):
    """We also count Exchange ``mapi`` and webmail ``HTTP`` hops as authenticated submissions
    (a logged-in user wrote them); SpamAssassin does not, so agreement is a rate, not all."""
    agree = sum(
        1
        for row in sa_lines
        if (hop := parse_received(row["received"])) is not None
        and hop.authenticated == bool(row["spamassassin_4_0_1"]["auth"])
    )
    rate = agree / len(sa_lines)
    print(f"authenticated: {agree}/{len(sa_lines)} = {rate:.1%} agree with SpamAssassin 4.0.1")
    assert rate >= 0.99
