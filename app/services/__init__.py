"""Queries and use cases. Plain data in and out: no HTTP objects here."""
