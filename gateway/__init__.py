"""LienThong Gateway: a store-and-forward hub for edXML documents between agencies."""

__version__ = "0.1.0"
