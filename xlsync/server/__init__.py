"""`xlsync serve`: the before-a-call look-up over the office network, with sign-in, per-rep
confidentiality and an audit log. See docs/serve.md."""

from xlsync.server.app import ServeConfig, create_app

__all__ = ["ServeConfig", "create_app"]
