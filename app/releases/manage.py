"""Releases → Manage Releases: the list by series, a release's centres, cancel."""
