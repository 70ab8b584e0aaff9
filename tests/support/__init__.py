"""Test scaffolding: real-server harnesses, fakes, fixture builders and the plugin runner."""
