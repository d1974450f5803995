"""Secure resources: their files, metadata and versions."""
