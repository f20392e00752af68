"""xlsync: customer-ownership rules for a shared Excel sales register."""

__version__ = "0.1.0"
