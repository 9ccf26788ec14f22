"""Asset sources (family ``assets``): one module per kind, each an ``Importer`` listed in ciimap/sources.py."""
