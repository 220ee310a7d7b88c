"""ferrybot's test suite."""
