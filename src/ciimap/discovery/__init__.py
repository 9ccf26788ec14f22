"""Scope-guarded live discovery: admins configure scan scopes; nmap runs only inside them."""
