"""Continuous evaluation: alerts about a model in a stage trigger retraining, rollback, notices."""
