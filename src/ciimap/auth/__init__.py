"""Users, roles, API tokens and web sessions."""
