# hookgate: multi-stage build. Stage 1 compiles (rdkafka builds its bundled librdkafka with
# gcc/make); stage 2 is a slim runtime running as a non-root user.
FROM rust:1-slim-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so source edits do not rebuild them.
COPY Cargo.toml Cargo.lock ./
# Cargo.toml names the benches; a stub for each (read from Cargo.toml, so a new bench cannot
# break this step) lets the manifest parse. They are never built here. scripts/check-dockerfile
# runs these steps outside Docker in the test command.
RUN mkdir src benches && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && for b in $(awk '/^\[\[bench\]\]/ { b = 1; next } /^\[/ { b = 0 } b && $1 == "name" { gsub(/"/, "", $3); print $3 }' Cargo.toml); do echo 'fn main() {}' > "benches/$b.rs"; done \
 && cargo build --profile production --locked \
 && rm -rf src
COPY src ./src
# The event catalogs in config/catalogs and the code map (the crate's documentation) are
# built into the binary.
COPY config ./config
COPY docs/src/architecture.md ./docs/src/architecture.md
RUN touch src/main.rs src/lib.rs && cargo build --profile production --locked

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home hookgate
WORKDIR /app
COPY --from=build /src/target/production/hookgate /usr/local/bin/hookgate
COPY config ./config
COPY schemas ./schemas
# The spool and the dedup journal live under /app/state (mount a volume there).
RUN mkdir -p /app/state && chown hookgate /app/state
VOLUME /app/state
USER hookgate
# 8080: ingest (webhooks, /metrics); 8081: admin API, status page and probes when [admin] is set.
EXPOSE 8080 8081
# Reload sources and schemas without a restart: docker kill --signal=HUP <container>
ENTRYPOINT ["hookgate"]
# The demo config (embedded broker). Mount your own and pass --config for production.
CMD ["run", "--listen", "0.0.0.0:8080"]
