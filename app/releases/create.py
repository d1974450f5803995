"""Releases → Release Resources: choose resources, audience and window; preview; save."""
