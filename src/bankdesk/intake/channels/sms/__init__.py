"""sms channel: the provider's signed webhook in (`views`, contract in `webhook`) and replies
out through its HTTP API (`adapter`, contract in `provider`)."""
