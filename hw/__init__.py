"""Amaranth components of a WCC layer (one block per module)."""
