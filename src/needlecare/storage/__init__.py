"""Database models, sessions, migrations and the photo file store."""
