"""sms channel."""
