"""Threat-intelligence sources: one module per format, each an ``IntelSource`` (see ``base.py``)."""
