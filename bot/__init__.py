"""ferrybot bot package."""
