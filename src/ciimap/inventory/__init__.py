"""The security map itself: organisations, sites, zones, services, systems, assets, software, vendors, edges."""
