"""Spreadsheets in and out: the one safe reader every upload uses, and text-only writing."""
