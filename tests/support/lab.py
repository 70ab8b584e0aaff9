"""Addresses the integration tests share: who the lab's blocklist lists.

Documentation and example addresses (RFC 5737) plus the incident's real relay, so a test
reads as the story it tells.
"""

LISTED_IP = "192.0.2.7"  # the address check_dnsbl's tests find listed
AV_RELAY = "185.56.87.12"  # the provider's virus-scan relay of the incident (provider_relay.eml)
