"""Container registries over the Docker Registry HTTP API v2."""
