"""What the blocklist options turn into: the zones of a run and the notes about them."""

from __future__ import annotations

from mailrep.dnsbl.catalogue import Zone
from mailrep.dnsbl.lookup import BlocklistConfig
from mailrep.plugin.dnsbl_options import dead_list_notes


def notes_skipping(*dead: tuple[str, str]) -> list[str]:
    skipped = tuple(Zone(name, dead=reason) for name, reason in dead)
    return dead_list_notes(BlocklistConfig([], None, None, skipped))  # type: ignore[arg-type]


def test_no_skipped_zone_makes_no_note():
    assert notes_skipping() == []


def test_skipped_dead_zones_make_one_line_naming_each_with_reasons_counted():
    notes = notes_skipping(
        ("a.sorbs.net", "SORBS closed"),
        ("cbl.abuseat.org", "now XBL"),
        ("b.sorbs.net", "SORBS closed"),
    )
    assert notes == [
        "skipped 3 dead lists: a.sorbs.net, cbl.abuseat.org, b.sorbs.net"
        " — SORBS closed (2); now XBL (1)"
    ]


def test_one_skipped_zone_is_one_dead_list():
    assert notes_skipping(("x.njabl.org", "closed"))[0].startswith("skipped 1 dead list: ")


def test_an_unreadable_dqs_key_file_is_unknown_naming_it(tmp_path):
    import pytest
    from mailrep.plugin.dnsbl_options import ConfigError, _dqs_key_from

    with pytest.raises(ConfigError, match=f"DQS key file {tmp_path}/none"):
        _dqs_key_from(str(tmp_path / "none"))


def test_the_dqs_key_is_the_first_line_of_its_file(tmp_path):
    from mailrep.plugin.dnsbl_options import _dqs_key_from

    path = tmp_path / "key"
    path.write_text("k3y\nignored\n")
    path.chmod(0o600)
    assert _dqs_key_from(str(path)) == "k3y"
