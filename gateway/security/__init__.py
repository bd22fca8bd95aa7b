"""Hardened XML parsing, agency credentials and WS-Security checks."""
