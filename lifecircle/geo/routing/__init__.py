"""Joining points to the walking network and shortest walks between them."""
