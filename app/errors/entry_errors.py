"""Errors → Entry Errors: rows of entries files that were not entered, and why."""
