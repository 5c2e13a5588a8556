# One image for every process of the platform: the auth and blog functions and the HTTP bridge.
# Compose picks the binary per service; secrets arrive at run time, never at build time.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin auth --bin blog --bin http-bridge \
 && mkdir -p /out \
 && cp target/release/auth target/release/blog target/release/http-bridge /out/

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /out/ /usr/local/bin/
USER app
ENV LOG_FORMAT=json
CMD ["http-bridge"]
