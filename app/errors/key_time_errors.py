"""Errors → Key Time Errors: what stops an entered centre's key time being worked out."""
