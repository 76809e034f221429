"""The relay's OpenAPI document, built from the marshmallow schemas the views load and dump."""
