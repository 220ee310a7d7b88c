"""Forges ferrybot works with, each an adapter behind the one port in `bot.forges.port`."""
