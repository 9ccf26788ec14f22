"""Import sources of the data domain (the data catalogue register)."""
