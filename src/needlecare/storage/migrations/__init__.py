"""Alembic migration scripts for the needlecare database (config in ``alembic.ini`` next to this file)."""
