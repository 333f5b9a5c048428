"""Everything about talking to Elasticsearch, once: connection, daily index names, templates, bulk.

``connection`` builds the one client; ``naming`` names daily indices and the patterns that read them;
``templates`` holds both index templates; ``bulk`` plans ``_bulk`` bodies and classifies per-item
outcomes without I/O; ``errors`` reads a reason out of a refusal. The sink (ingest), retention and
the query backend use these; nothing here imports ingest, query or the roof's config.
"""
