"""Notifications (通报/告警推送): channels, routing rules and a durable outbox with delivery attempts."""
