"""Marshmallow schemas: the upstream contract (named as the contract names it) and the relay's own."""
