# Builds the `hallway` binary and runs it on a slim Debian with libpq.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
# SQLite's build flags (see the file).
COPY .cargo .cargo
COPY src src
COPY migrations migrations
# The badge sheet's fonts, compiled into the binary (with their licence).
COPY fonts fonts
# Cargo reads every target the manifest declares, so the test and benchmark sources come along.
COPY tests tests
COPY benches benches
RUN cargo build --release --locked --bin hallway

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 libssl3 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/hallway hallway \
    && mkdir -p /var/lib/hallway && chown hallway /var/lib/hallway
COPY --from=build /src/target/release/hallway /usr/local/bin/hallway
USER hallway
WORKDIR /var/lib/hallway
# Inside a container the API must listen beyond loopback; what is reachable from outside is
# decided where the port is published (see docker-compose.yml). DATABASE_URL and HALLWAY_MAIL keep
# their defaults (SQLite and an outbox folder, both under /var/lib/hallway) unless given: they are
# not set here, so that HALLWAY_MAIL_FILE and DATABASE_URL_FILE can be used instead.
ENV HALLWAY_LISTEN=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["hallway"]
CMD ["serve"]
