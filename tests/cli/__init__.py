"""Tests of the command line: setup of the webhook senders."""
