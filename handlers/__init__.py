"""Feature handlers: every module here is imported at start and registers itself."""
