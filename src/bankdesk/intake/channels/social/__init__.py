"""social channel: mentions from a listening service through the generic signed webhook
(`views`); replies are made on the platform unless a publishing service is set (`adapter`)."""
