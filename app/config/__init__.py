"""Configuration: one Settings object from the environment, each bad value naming its variable."""
