"""Shared pytest plugins and helpers for the suite."""
