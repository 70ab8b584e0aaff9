"""What each plugin's result objects say to the history and to the exposition.

A plugin hands :func:`mailrep.plugin.runtime.run` a callable returning :class:`Facts`:
the sightings its history merges (per address or domain and zone: listed, policy-listed,
clean, or cited by bounces), whether absence means the end (``complete``), and how to build
its metric families once the history has given each listing its ``since``. These adapters
read the same Resources that the Nagios lines and the JSON document are made from (typed
by what they are read for, so this module does not import the nagiosplugin ones). The
exposition modules are loaded only when families are asked for: a Nagios run needs none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from mailrep.dnsbl.lookup import Report, Status
from mailrep.plugin.history import CITED, CLEAN, LISTED, POLICY, Entry, Sighting

if TYPE_CHECKING:
    from mailrep.bounce.measure import Measurement
    from mailrep.plugin.openmetrics import Family
    from mailrep.relay.chain import Examination


class BlocklistResource(Protocol):
    report: Report | None


class RelayChainResource(Protocol):
    exam: Examination | None
    not_delivered: Any


class BounceResource(Protocol):
    measurement: Measurement | None


Families = Callable[[Mapping[str, Entry]], "list[Family]"]

_SEEN = {Status.LISTED: LISTED, Status.POLICY: POLICY, Status.CLEAN: CLEAN}


class Facts(NamedTuple):
    sightings: list[Sighting]
    complete: bool  # a known entry without a sighting has ended (bounce windows)
    families: Families


def _no_families(_since: Mapping[str, Entry]) -> list[Family]:
    return []


NOTHING = Facts([], False, _no_families)


def report_sightings(report: Report | None) -> list[Sighting]:
    """Listed, policy-listed and clean answers; errors and broken zones say nothing."""
    if report is None:
        return []
    return [
        Sighting(v.item.text, v.zone_shown, _SEEN[v.status])
        for v in report.verdicts
        if v.status in _SEEN
    ]


def of_blocklist(resource: BlocklistResource) -> Facts:
    report = resource.report
    if report is None:
        return NOTHING

    def families(since: Mapping[str, Entry]) -> list[Family]:
        from mailrep.plugin import exposition

        return exposition.blocklist(report, since)

    return Facts(report_sightings(report), False, families)


def of_relay_chain(resource: RelayChainResource) -> Facts:
    """A round trip is one whose message arrived (a delivery time) or did not: only then is
    there a ``delivered`` metric."""
    exam = resource.exam
    delivered: bool | None = None
    if resource.not_delivered is not None:
        delivered = False
    elif exam is not None and exam.delivery is not None:
        delivered = True

    def families(since: Mapping[str, Entry]) -> list[Family]:
        from mailrep.plugin import exposition

        out = exposition.relay(exam, delivered)
        if exam is not None and exam.report is not None:
            out += exposition.blocklist(exam.report, since)
        return out

    report = exam.report if exam is not None else None
    return Facts(report_sightings(report), False, families)


def of_bounces(resource: BounceResource) -> Facts:
    m = resource.measurement
    if m is None:
        return NOTHING
    cited = [Sighting(ip or "", zone, CITED) for zone, ip in m.summary.citations()]

    def families(since: Mapping[str, Entry]) -> list[Family]:
        from mailrep.plugin import exposition

        return exposition.bounces(m, since)

    return Facts(cited, True, families)
