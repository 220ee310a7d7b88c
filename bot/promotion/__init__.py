"""The promotion engine: plan a stage's edits, commit them, open or update its pull request."""
