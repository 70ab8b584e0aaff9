"""contrib/icinga/mailrep-zones.conf is the zone catalogue's, regenerated."""

import importlib.util
from pathlib import Path

from mailrep.dnsbl.catalogue import load_default

ROOT = Path(__file__).resolve().parents[3]
CONF = ROOT / "contrib" / "icinga" / "mailrep-zones.conf"


def generator():
    spec = importlib.util.spec_from_file_location(
        "gen_icinga_zones", ROOT / "docs" / "gen_icinga_zones.py"
    )
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def test_the_committed_zones_file_matches_the_catalogue():
    assert CONF.read_text() == generator().render(), "stale: run docs/gen_icinga_zones.py"


def test_every_live_list_with_a_page_is_there_and_no_dead_one():
    text = CONF.read_text()
    for zone in load_default().zones.values():
        listed = f'"{zone.name}" = ' in text
        assert listed == bool(zone.lookup_url and not zone.dead), zone.name


def test_the_default_zones_are_the_catalogues_default_set_in_order():
    text = CONF.read_text().split("const MailrepDefaultZones = [", 1)[1].split("]", 1)[0]
    names = [line.strip().strip(",").strip('"') for line in text.splitlines() if line.strip()]
    assert names == [z.name for z in load_default().defaults()]
