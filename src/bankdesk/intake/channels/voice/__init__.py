"""voice channel."""
