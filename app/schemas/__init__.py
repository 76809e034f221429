"""Marshmallow schemas: the upstream contract (under its own names) and the relay's own."""
