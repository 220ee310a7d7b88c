"""The board: a read-only page of what runs where and the delivery metrics, served by ferrybot."""
