"""The site map: sites on a geographic view (bounds, clusters, risk and incident colours), the logical
view of zones and their links, and the optional approved GeoJSON base map."""
