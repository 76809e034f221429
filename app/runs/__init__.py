"""The run domain: states, transitions, callback tokens and the service functions."""
