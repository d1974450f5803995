"""Releases: Release Resources and Manage Releases."""
