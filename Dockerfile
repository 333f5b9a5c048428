# logferry's image for docker-compose.yml: the shipper, the indexers and the query API.

# The compiled fast path (native/, a Rust extension built with maturin) as a wheel; only the wheel
# reaches the image, not the toolchain.
FROM python:3.11-slim AS native
COPY --from=rust:1-slim-bookworm /usr/local/cargo /usr/local/cargo
COPY --from=rust:1-slim-bookworm /usr/local/rustup /usr/local/rustup
ENV CARGO_HOME=/usr/local/cargo RUSTUP_HOME=/usr/local/rustup PATH=/usr/local/cargo/bin:$PATH \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
COPY native /native
RUN pip wheel --no-deps --wheel-dir /wheels /native

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY core ./core
COPY store ./store
COPY elastic ./elastic
COPY logferry ./logferry
COPY ingest ./ingest
COPY parsers ./parsers
COPY enrich ./enrich
COPY query ./query
COPY ui ./ui
COPY --from=native /wheels /wheels
RUN pip install /wheels/*.whl . \
    && useradd --system --uid 10001 --home-dir /var/lib/logferry --create-home logferry

USER logferry
WORKDIR /var/lib/logferry
ENTRYPOINT ["logferry", "--data-dir", "/var/lib/logferry"]
CMD ["--help"]
