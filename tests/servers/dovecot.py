"""Harness for a real dovecot on loopback (fixtures for pytest)."""
