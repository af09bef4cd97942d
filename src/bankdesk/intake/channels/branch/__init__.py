"""branch channel."""
