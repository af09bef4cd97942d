"""social channel."""
