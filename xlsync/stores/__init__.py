"""History stores other than the embedded SQLite one (see `xlsync.history`)."""
