"""Verification of artifacts and changes: signatures, attestations, model signing, secrets."""
