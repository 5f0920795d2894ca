"""Reference fixture generator (see README.md)."""
