"""email channel."""
