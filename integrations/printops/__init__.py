"""PrintOps (posters and framed prints): its base products as a source of print products.

client.py speaks the API, mapping.py turns base products into one canonical print product
per PrintOps product category, source.py is the source syncs and imports use, sync.py
what a complete sync does besides ingesting (archiving, shipping methods).
"""
