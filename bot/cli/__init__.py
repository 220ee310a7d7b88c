"""The `ferrybot` command line."""
