"""Shared test helpers (simulator launcher, ...)."""
