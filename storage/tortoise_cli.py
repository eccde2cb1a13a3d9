"""Configuration for Tortoise's own CLI when writing migrations after a model change:

    .venv/bin/python -m tortoise -c storage.tortoise_cli.TORTOISE_ORM makemigrations --name NAME

It points at a throw-away SQLite file; the migration files land in storage/migrations/.
"""

from storage.database import tortoise_config

TORTOISE_ORM = tortoise_config("sqlite:///tmp/tessera-makemigrations.sqlite3")
