"""logferry: ship JSON application logs to DuckDB, Elasticsearch or Kafka, tagged, enriched and queryable."""

__version__ = "0.1.0"
