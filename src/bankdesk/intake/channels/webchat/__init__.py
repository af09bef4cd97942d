"""webchat channel."""
