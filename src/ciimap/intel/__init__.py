"""Threat intelligence (威胁情报): STIX 2.1 and MISP indicators, matched against alerts and linked to the map."""
