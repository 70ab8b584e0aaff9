"""Harness for a real rbldnsd on loopback (fixtures for pytest)."""
