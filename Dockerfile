# Builds Backbone with the official Swift image and runs it on a slim Debian with libpq.
FROM swift:6.3-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift schema.sql functions.sql openapi.yaml ./
COPY migrations ./migrations
COPY scripts/embed-files.sh ./scripts/
COPY Sources ./Sources
COPY Tests ./Tests
# schema.sql, functions.sql, the migrations and openapi.yaml are compiled into the binary: it needs no
# file beside it.
RUN scripts/embed-files.sh \
    && swift build -c release --product backbone --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/backbone" /usr/local/bin/backbone

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 1001 --home-dir /app backbone
WORKDIR /app
COPY --from=build /usr/local/bin/backbone /app/backbone
ENV HOST=0.0.0.0 PORT=8080
USER backbone
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["/app/backbone"]
CMD ["serve"]
