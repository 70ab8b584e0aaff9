"""Fixtures the integration tests share."""

from __future__ import annotations

import pytest

from tests.support.lab import AV_RELAY, LISTED_IP
from tests.support.servers.rbldnsd import Rbldnsd, ip4set


@pytest.fixture
def psbl(rbldnsd) -> Rbldnsd:
    """A real rbldnsd serving psbl.surriel.com, listing the lab's listed address and the
    incident's provider relay (and its RFC 5782 test entry, as every real list does)."""
    return rbldnsd([ip4set("psbl.surriel.com", LISTED_IP, AV_RELAY)])
