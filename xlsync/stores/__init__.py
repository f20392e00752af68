"""History stores other than the embedded SQLite one (see `xlsync.history`)."""

DB_ENV = "XLSYNC_DB"  # the environment variable naming the shared database (like --db)
