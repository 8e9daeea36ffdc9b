"""Detectors: one module each, registered as pipeline stages. They meet in the store, never
call each other."""
