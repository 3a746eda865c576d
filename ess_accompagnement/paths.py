"""Where this machine keeps the database and the logs (platformdirs: local, never roaming)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from ess_accompagnement import APP_AUTHOR, APP_NAME

DB_FILENAME = "ess-accompagnement.db"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR, roaming=False))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def default_db_path() -> Path:
    return data_dir() / DB_FILENAME
