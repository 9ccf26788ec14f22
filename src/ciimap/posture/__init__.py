"""Security posture (安全态势): how exposed the operator is now, from the other domains' services."""
