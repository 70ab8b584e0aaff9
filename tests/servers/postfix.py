"""Harness for a real postfix on loopback (fixtures for pytest)."""
