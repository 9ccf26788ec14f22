"""Vulnerability feeds: one module per kind, each a ``FeedSource`` (see ``source.py``) listed in
ciimap/sources.py."""
