"""Commercial cryptography (商用密码): crypto inventory from scans and SBOMs, flags, the 密评 score."""
