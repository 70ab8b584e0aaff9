"""Decoding answers with the catalogue: the part that must never cry wolf or miss a listing."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mailrep.dnsbl import catalogue as zones
from mailrep.dnsbl.catalogue import CatalogueError, Meaning

DEFAULT = zones.load_default()


@pytest.fixture(scope="module")
def catalogue():
    return zones.load_default()


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        ("127.0.0.2", Meaning.LISTING),
        ("127.0.0.4", Meaning.LISTING),
        ("127.0.0.10", Meaning.POLICY),
        ("127.0.0.11", Meaning.POLICY),
        ("127.255.255.252", Meaning.ERROR),
        ("127.255.255.254", Meaning.ERROR),
        ("127.255.255.255", Meaning.ERROR),
    ],
)
def test_spamhaus_zen_codes_decode_to_their_published_meaning(catalogue, code, meaning):
    assert catalogue.get("zen.spamhaus.org").decode(code).meaning is meaning


def test_spamhaus_open_resolver_answer_names_the_cause(catalogue):
    assert "public" in catalogue.get("zen.spamhaus.org").decode("127.255.255.254").label


def test_dbl_answer_for_an_ip_query_is_an_error(catalogue):
    assert catalogue.get("dbl.spamhaus.org").decode("127.0.1.255").meaning is Meaning.ERROR


def test_uribl_refusal_is_an_error(catalogue):
    assert catalogue.get("multi.uribl.com").decode("127.0.0.1").meaning is Meaning.ERROR


def test_uribl_bitmask_combines_labels_and_keeps_the_gravest_meaning(catalogue):
    answer = catalogue.get("multi.uribl.com").decode("127.0.0.6")  # black (2) + grey (4)
    assert answer.meaning is Meaning.LISTING
    assert "black" in answer.label and "grey" in answer.label


def test_answer_outside_loopback_is_an_error_for_every_zone(catalogue):
    for zone in catalogue.zones.values():
        assert zone.decode("198.51.100.7").meaning is Meaning.ERROR


def test_unknown_zone_gets_rfc5782_generic_decoding(catalogue):
    zone = catalogue.get("bl.unknown.test")
    assert zone.decode("127.0.0.2").meaning is Meaning.LISTING
    assert zone.decode("127.0.0.1").meaning is Meaning.ERROR


def test_default_set_is_curated_and_alive(catalogue):
    defaults = catalogue.defaults()
    assert 15 <= len(defaults) <= 25
    assert not [z for z in defaults if z.dead]


def test_dead_zone_is_refused_with_its_reason(catalogue):
    with pytest.raises(CatalogueError, match="SORBS"):
        zones.select(catalogue, ["dnsbl.sorbs.net"], [])


def test_excluded_zone_is_left_out(catalogue):
    names = [z.name for z in zones.select(catalogue, [], ["zen.spamhaus.org"])]
    assert "zen.spamhaus.org" not in names and "psbl.surriel.com" in names


def test_dqs_key_goes_into_the_query_and_never_into_the_shown_name(catalogue):
    query, shown = catalogue.get("zen.spamhaus.org").with_key("s3cr3tkey")
    assert query == "s3cr3tkey.zen.dq.spamhaus.net"
    assert "s3cr3tkey" not in shown


def test_check_rbl_ini_server_lines_select_zones(catalogue):
    cat = zones.parse_check_rbl_ini(
        "[rbl]\nserver=psbl.surriel.com\nserver=bl.example.test\n", "check_rbl.ini", catalogue
    )
    assert cat.selects and list(cat.zones) == ["psbl.surriel.com", "bl.example.test"]
    assert cat.zones["psbl.surriel.com"].lookup_url  # known zones keep their catalogue entry


def test_toml_catalogue_with_a_bad_rule_is_refused():
    with pytest.raises(CatalogueError):
        zones.parse_toml('[[zone]]\nname = "x.test"\nanswers = [{ match = "nonsense" }]\n', "f")


def test_domain_lists_self_test_with_rfc5782_names(catalogue):
    zone = catalogue.get("dbl.spamhaus.org")
    assert (zone.test_listed, zone.test_clean) == ("test", "invalid")


# --- dead lists: a closed operator's zones all go with it -----------------------------------

label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@given(labels=st.lists(label, min_size=1, max_size=4))
def test_every_zone_under_a_dead_operators_domain_is_dead(labels):
    catalogue = zones.load_default()
    name = ".".join([*labels, "sorbs.net"])
    assert "SORBS" in catalogue.get(name).dead
    with pytest.raises(CatalogueError, match="dead list"):
        zones.select(catalogue, [name], [])


@given(labels=st.lists(label, min_size=1, max_size=3))
def test_a_zone_that_only_ends_like_a_dead_domain_is_alive(labels):
    """``notsorbs.net`` is another operator: the match is on whole labels."""
    catalogue = zones.load_default()
    assert catalogue.get(".".join([*labels, "notsorbs.net"])).dead == ""


def test_cbl_is_dead_and_points_at_spamhaus_xbl(catalogue):
    assert "XBL" in catalogue.get("cbl.abuseat.org").dead


def test_a_catalogue_entry_is_authoritative_under_a_dead_domain():
    catalogue = zones.parse_toml(
        '[[zone]]\nname = "alive.gone.test"\n\n'
        '[[dead_domain]]\ndomain = "gone.test"\ndead = "closed"\n',
        "f",
    )
    assert catalogue.get("alive.gone.test").dead == ""
    assert catalogue.get("other.gone.test").dead == "closed"


def test_a_dead_domain_without_a_reason_is_refused():
    with pytest.raises(CatalogueError, match="dead_domain"):
        zones.parse_toml('[[dead_domain]]\ndomain = "gone.test"\n', "f")


def test_dead_zones_of_a_check_rbl_file_are_skipped_and_returned_in_file_order(catalogue):
    ini = zones.parse_check_rbl_ini(
        "[rbl]\nserver=psbl.surriel.com\nserver=l2.spews.dnsbl.sorbs.net\n"
        "server=cbl.abuseat.org\nserver=bl.example.test\nserver=dnsbl.njabl.org\n",
        "check_rbl.ini",
        catalogue,
    )
    picked = zones.select_zones(catalogue.merge(ini), list(ini.zones), [], skip_dead=True)
    assert [z.name for z in picked.zones] == ["psbl.surriel.com", "bl.example.test"]
    assert [z.name for z in picked.skipped_dead] == [
        "l2.spews.dnsbl.sorbs.net",
        "cbl.abuseat.org",
        "dnsbl.njabl.org",
    ]


def test_without_skip_dead_the_first_dead_zone_is_refused_as_before(catalogue):
    with pytest.raises(CatalogueError, match=r"cbl\.abuseat\.org"):
        zones.select_zones(catalogue, ["psbl.surriel.com", "cbl.abuseat.org"], [])


# --- a code the catalogue does not document is never a listing -------------------------------


@pytest.mark.parametrize(
    "zone",
    [
        "zen.spamhaus.org",
        "dbl.spamhaus.org",
        "bl.ipv6.spameatingmonkey.net",
        "dnsbl-2.uceprotect.net",
        "dnsbl-3.uceprotect.net",
    ],
)
def test_never_listed_entry_code_is_an_error_on_zones_that_lacked_a_rule(catalogue, zone):
    answer = catalogue.get(zone).decode("127.0.0.1")
    assert answer.meaning is Meaning.ERROR and answer.documented


def test_no_catalogue_zone_reads_127_0_0_1_as_a_listing(catalogue):
    for zone in catalogue.zones.values():
        assert zone.decode("127.0.0.1").meaning not in (Meaning.LISTING, Meaning.POLICY), zone.name


@given(st.integers(min_value=0, max_value=2**24 - 1))
def test_a_127_code_no_rule_matches_is_an_undocumented_error_on_every_zone(low):
    code = str(ipaddress.IPv4Address((127 << 24) | low))
    for zone in DEFAULT.zones.values():
        if zone.rules == zones.GENERIC_RULES:
            continue  # the zone documents RFC 5782's generic conventions
        matched = any(r.matches(ipaddress.IPv4Address(code)) for r in zone.rules)
        answer = zone.decode(code)
        if not matched:
            assert answer.meaning is Meaning.ERROR and not answer.documented, (zone.name, code)


def test_explicit_unmatched_meaning_in_a_user_catalogue_is_kept():
    cat = zones.parse_toml(
        '[[zone]]\nname = "x.test"\nunmatched = "listing"\n'
        'answers = [{ match = "127.0.0.2", means = "listing" }]\n',
        "f",
    )
    answer = cat.zones["x.test"].decode("127.0.0.9")
    assert answer.meaning is Meaning.LISTING and answer.documented


def test_user_zone_without_answers_gets_the_generic_rules():
    cat = zones.parse_toml('[[zone]]\nname = "x.test"\n', "f")
    assert cat.zones["x.test"].decode("127.0.0.4").meaning is Meaning.LISTING
    assert cat.zones["x.test"].decode("127.0.0.1").meaning is Meaning.ERROR


# --- a broken catalogue file says where --------------------------------------------------------


def test_toml_syntax_error_names_file_line_and_column():
    with pytest.raises(
        CatalogueError, match=r"^/etc/z\.toml: TOML error at line 3, column 23: Invalid value"
    ):
        zones.parse_toml('[[zone]]\nname = "x.test"\nanswers = [ { match = } ]\n', "/etc/z.toml")


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('kinds = "ip4"', "kinds"),
        ('kinds = ["ipv4"]', "kinds"),
        ('default = "yes"', "default"),
        ("description = 5", "description"),
        ('unmatched = "maybe"', "unmatched"),
        ('answers = "127.0.0.2"', "answers"),
        ('answers = ["127.0.0.2"]', "answers[0]"),
        ('answers = [{ match = "nonsense" }]', "answers[0].match"),
        ('answers = [{ match = "127.0.0.9-127.0.0.2" }]', "answers[0].match"),
        ('answers = [{ match = "127.0.0.2", means = "bad" }]', "answers[0].means"),
        ("answers = [{ mask = 256 }]", "answers[0].mask"),
        ('answers = [{ mask = 2, match = "127.0.0.2" }]', "answers[0]"),
        ("answers = [{ label = 'x' }]", "answers[0]"),
    ],
)
def test_bad_value_names_the_zone_and_the_key(body, key):
    with pytest.raises(CatalogueError) as raised:
        zones.parse_toml(f'[[zone]]\nname = "own.example.test"\n{body}\n', "z.toml")
    assert str(raised.value).startswith(f"z.toml: zone own.example.test: key '{key}' must be")


def test_misspelt_key_is_refused_with_the_known_ones():
    with pytest.raises(CatalogueError, match="unknown key 'answer'"):
        zones.parse_toml('[[zone]]\nname = "own.example.test"\nanswer = []\n', "z.toml")


def test_zone_without_a_name_is_refused_with_its_number():
    with pytest.raises(CatalogueError, match="zone #2 has no name"):
        zones.parse_toml('[[zone]]\nname = "a.test"\n[[zone]]\nkinds = ["ip4"]\n', "z.toml")


def test_built_in_catalogue_passes_the_strict_reader(catalogue):
    assert len(catalogue.zones) > 20


def test_the_file_reader_knows_exactly_the_catalogue_meanings():
    from mailrep.dnsbl import zone_toml

    assert set(zone_toml.MEANINGS) == {m.value for m in Meaning}


def test_a_zones_file_that_is_not_utf8_is_refused_naming_the_line(catalogue, tmp_path):
    path = tmp_path / "zones.toml"
    path.write_bytes(b'[[zone]]\nname = "bl.example.test"\ndescription = "caf\xe9"\n')
    with pytest.raises(CatalogueError, match=r"not UTF-8 text \(line 3\)"):
        zones.load_file(str(path), catalogue)
