"""Helpers shared by tests (and loaded by the test worker process)."""
