"""Chat-ops notifications: handlers publish to their own topic, the notifier delivers them."""
