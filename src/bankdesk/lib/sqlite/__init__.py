"""bankdesk's SQLite database backend: Django's, with writers that queue in turn."""
