# logferry's image for docker-compose.yml: the shipper, the indexers and the query API.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY logferry ./logferry
COPY ingest ./ingest
COPY parsers ./parsers
COPY enrich ./enrich
COPY query ./query
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/logferry --create-home logferry

USER logferry
WORKDIR /var/lib/logferry
ENTRYPOINT ["logferry", "--data-dir", "/var/lib/logferry"]
CMD ["--help"]
