"""Live alert inputs (docs/alerts-listener.md): the syslog listener (UDP and TCP, RFC 6587 framing),
following a growing file, and the authenticated JSON webhook. All of them hand messages to the file
import's parsers (one per format, ``alerts/sources``) and its loader (``alerts/load.py``: mapping,
grouping, suppression, intelligence matching), batch by batch (``ingest.py``)."""
