"""Tests of the GitHub access layer."""
