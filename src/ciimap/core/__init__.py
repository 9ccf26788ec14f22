"""Cross-cutting pieces every domain uses: database, audit, auth, errors, pagination, jobs."""
