"""The embedded store: one DuckDB file per UTC day, shared by the writing and the querying processes."""
