"""Succession: after-death options, death notices, estate look-ups, transfers to heirs."""
