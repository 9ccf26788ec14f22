"""Vulnerability risk: offline feeds, explainable matching, business-aware priority, durable triage."""
