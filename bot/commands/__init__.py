"""Slash-commands in pull-request comments: parsing them and carrying them out."""
