"""Reliability and security suites: faults, hostile servers, bad input, secrets, interruption."""
