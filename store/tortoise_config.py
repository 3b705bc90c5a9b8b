"""For tortoise's own command line: `tortoise -c store.tortoise_config.TORTOISE_ORM makemigrations`."""

import os

from .db import config

TORTOISE_ORM = config(os.environ.get("GREENLIGHT_DATABASE_URL", "sqlite://greenlight-migrations.db"))
