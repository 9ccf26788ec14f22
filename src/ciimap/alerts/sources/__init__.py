"""Alert sources: one module per sensor format, each an ``AlertSource`` (see ``base.py``)."""
