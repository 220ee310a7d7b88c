"""Alembic migrations of the ledger's schema, shipped in the package and run at start."""
