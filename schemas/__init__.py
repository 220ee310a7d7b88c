"""ferrybot schemas package."""
