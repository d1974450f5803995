"""Releases: the window rule, planning and saving a release's authorisations, and
deciding, to the second, whether a centre user may download a resource."""
