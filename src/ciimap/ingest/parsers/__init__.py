"""One pure, streaming parser per source. Each yields typed records from ``ciimap.ingest.records``."""
