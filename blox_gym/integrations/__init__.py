"""Bridges from blox-gym to other ecosystems (optional extras)."""
