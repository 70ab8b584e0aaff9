"""Is an address a bounce cited still listed? The cited (list, address) pairs looked up now.

A bounce's text is written by a stranger and can be forged, and a resolver that cannot
reach the lists (no Internet access, a filtering resolver) answers NXDOMAIN for everything:
read naively, every citation would then be "no longer listed" and the check would go OK.
So a recheck goes through the same lookup core as check_dnsbl, RFC 5782 self-tests
included: a zone that does not list its always-listed test entry, or lists its never-listed
one, gives an error, never "clean". Only zones the catalogue knows, or that the user named,
are asked; a bounce cannot make the check query a zone of its choosing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Literal, NamedTuple

from mailrep.dns.addresses import is_global, parse_ip
from mailrep.dnsbl.catalogue import Catalogue, Zone
from mailrep.dnsbl.lookup import Item, LookupSettings, Report, Status, applies, lookup

Pair = tuple[str, str]  # (zone name as cited, address)


class Recheck(NamedTuple):
    """The answer for one cited pair today."""

    state: Literal["listed", "clean", "error", "skipped"]
    detail: str = ""

    @property
    def text(self) -> str:
        """As the long output and JSON say it: ``still listed``, ``no longer listed``,
        ``error: ...``, ``skipped: ...``."""
        if self.state == "listed":
            return "still listed"
        if self.state == "clean":
            return "no longer listed"
        return f"{self.state}: {self.detail}"


class _Plan(NamedTuple):
    asked: dict[Pair, tuple[Item, Zone]]
    answered: dict[Pair, Recheck]


def _plan(
    pairs: Iterable[Pair],
    catalogue: Catalogue,
    configured: Collection[str],
    not_dns: Collection[str],
    allow_nonglobal: bool,
) -> _Plan:
    asked: dict[Pair, tuple[Item, Zone]] = {}
    answered: dict[Pair, Recheck] = {}
    wanted = {name.strip().rstrip(".").lower() for name in configured}
    for zone_name, ip in dict.fromkeys(pairs):
        pair = (zone_name, ip)
        key = zone_name.strip().rstrip(".").lower()
        try:
            addr = parse_ip(ip)
        except ValueError:
            answered[pair] = Recheck("skipped", "not an IP address")
            continue
        if key in not_dns:
            answered[pair] = Recheck("skipped", "provider block, no DNS list")
        elif not allow_nonglobal and not is_global(addr):
            answered[pair] = Recheck("skipped", "not a global address")
        elif key not in catalogue.zones and key not in wanted:
            answered[pair] = Recheck(
                "skipped", "a list the catalogue does not know (name it with --verify-zone)"
            )
        elif (zone := catalogue.get(key)).dead:
            answered[pair] = Recheck("skipped", f"dead list ({zone.dead})")
        elif not applies(zone, item := Item.for_address(addr)):
            answered[pair] = Recheck("skipped", "list does not take this kind of address")
        else:
            asked[pair] = (item, zone)
    return _Plan(asked, answered)


def _judge(report: Report, item: Item, zone: Zone) -> Recheck:
    health = report.health.get(zone.name)
    if health is not None and (health.broken or health.suspect or health.error):
        why = health.detail or health.error or "self-test failed"
        return Recheck("error", f"{zone.name} failed its self-test: {why}")
    for v in report.verdicts:
        if v.item == item and v.zone.name == zone.name:
            if v.status in (Status.LISTED, Status.POLICY):
                return Recheck("listed")
            if v.status is Status.CLEAN:
                return Recheck("clean")
            return Recheck("error", v.error or str(v.status))
    return Recheck("error", "no answer")


def recheck(
    pairs: Iterable[Pair],
    catalogue: Catalogue,
    settings: LookupSettings,
    *,
    configured: Collection[str] = (),
    not_dns: Collection[str] = (),
    allow_nonglobal: bool = False,
) -> dict[Pair, Recheck]:
    """Look every askable pair up in one self-tested run; say why the others were not asked.

    ``configured`` names zones the user asked for beyond the catalogue; ``not_dns`` names
    pseudo-lists a citation may carry (a provider's own block) that have no DNS zone.
    """
    plan = _plan(pairs, catalogue, configured, not_dns, allow_nonglobal)
    if plan.asked:
        items = list(dict.fromkeys(item for item, _ in plan.asked.values()))
        zones = list({zone.name: zone for _, zone in plan.asked.values()}.values())
        checked = settings._replace(self_test=True, fetch_txt=False)
        report = lookup(items, zones, checked)
        for pair, (item, zone) in plan.asked.items():
            plan.answered[pair] = _judge(report, item, zone)
    return plan.answered
