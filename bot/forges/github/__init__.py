"""GitHub behind the forge port."""
