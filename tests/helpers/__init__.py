"""Shared test helpers that are not fixtures (fixtures live in ``tests/conftest.py``).

Test modules import from here instead of from each other, so that a test module is never
imported as a library (which would collect its tests twice and tie unrelated files together).
"""
