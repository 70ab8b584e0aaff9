"""What the blocklist options turn into: the zones of a run and the notes about them."""

from __future__ import annotations

from mailrep.dnsbl.catalogue import Zone
from mailrep.plugin.dnsbl_options import BlocklistConfig


def config_skipping(*dead: tuple[str, str]) -> BlocklistConfig:
    skipped = tuple(Zone(name, dead=reason) for name, reason in dead)
    return BlocklistConfig([], None, None, skipped)  # type: ignore[arg-type]


def test_no_skipped_zone_makes_no_note():
    assert config_skipping().notes == []


def test_skipped_dead_zones_make_one_line_naming_each_with_reasons_counted():
    notes = config_skipping(
        ("a.sorbs.net", "SORBS closed"),
        ("cbl.abuseat.org", "now XBL"),
        ("b.sorbs.net", "SORBS closed"),
    ).notes
    assert notes == [
        "skipped 3 dead lists: a.sorbs.net, cbl.abuseat.org, b.sorbs.net"
        " — SORBS closed (2); now XBL (1)"
    ]


def test_one_skipped_zone_is_one_dead_list():
    assert config_skipping(("x.njabl.org", "closed")).notes[0].startswith("skipped 1 dead list: ")
