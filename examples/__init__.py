"""Runnable examples of the house's patterns; each is tested like the services."""
