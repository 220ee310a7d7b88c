"""GitOps edit engine: strict identifiers, value templates and round-trip YAML edits."""
