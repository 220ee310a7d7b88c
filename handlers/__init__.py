"""ferrybot handlers package."""
