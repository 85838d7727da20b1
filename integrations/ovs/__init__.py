"""The OVS (Order and Warehouse System) source: its HTTP client, mapping and source."""
