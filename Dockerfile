# The executor image, laid out as kaniko publishes its own:
#   executor (the default, last stage)  FROM scratch: /kaniko/executor, /kaniko/warmer (the
#                                       same binary: it dispatches on its name), CA certificates
#                                       in /kaniko/ssl/certs, an empty /kaniko/.docker/
#   debug                               the same plus a busybox shell in /busybox
#   warmer                              the same with /kaniko/warmer as the entrypoint
# built from source in a Rust builder stage (`docker build .`, `docker build --target debug .`).
#
# Where no public registry can be reached, `prebuilt` and `prebuilt-debug` package files
# already in the context instead: the static binary at
# target/x86_64-unknown-linux-gnu/release/executor with a hard link to it named `warmer`
# beside it, the only files .dockerignore keeps there (one COPY of the directory keeps the
# link, as BuildKit keeps links within one source, so the image holds the binary once), and CA
# certificates and busybox staged in target/image/ by scripts/image. Each is a single FROM scratch stage that needs no other
# stage, so `--target prebuilt --skip-unused-stages` never touches the builder.

ARG RUST_IMAGE=docker.io/library/rust:1-bookworm
ARG BUSYBOX_IMAGE=docker.io/library/busybox:1.36.1-musl

FROM ${RUST_IMAGE} AS builder
WORKDIR /src
COPY . .
# .cargo/config.toml builds for x86_64-unknown-linux-gnu with crt-static: no libc needed.
RUN cargo build --release --locked --bin executor \
 && mkdir -p /out/kaniko/.docker /out/kaniko/ssl/certs /out/bin \
 && strip -o /out/kaniko/executor target/x86_64-unknown-linux-gnu/release/executor \
 && ln /out/kaniko/executor /out/kaniko/warmer \
 && cp /etc/ssl/certs/ca-certificates.crt /out/kaniko/ssl/certs/ \
 && ln -s /busybox/sh /out/bin/sh

FROM ${BUSYBOX_IMAGE} AS busybox

FROM scratch AS base
COPY --from=builder /out/kaniko /kaniko
ENV PATH=/usr/local/bin:/kaniko \
    HOME=/root \
    USER=root \
    SSL_CERT_DIR=/kaniko/ssl/certs \
    DOCKER_CONFIG=/kaniko/.docker/ \
    DOCKER_CREDENTIAL_GCR_CONFIG=/kaniko/.config/gcloud/docker_credential_gcr_config.json
WORKDIR /workspace
ENTRYPOINT ["/kaniko/executor"]

FROM base AS warmer
ENTRYPOINT ["/kaniko/warmer"]

FROM base AS debug
COPY --from=busybox /bin /busybox
COPY --from=builder /out/bin /bin
ENV PATH=/usr/local/bin:/kaniko:/busybox
# A volume, as in kaniko's debug image: where the runtime mounts it, the build leaves it alone.
VOLUME /busybox

FROM scratch AS prebuilt
COPY target/image/kaniko/ /kaniko/
COPY target/x86_64-unknown-linux-gnu/release/ /kaniko/
ENV PATH=/usr/local/bin:/kaniko \
    HOME=/root \
    USER=root \
    SSL_CERT_DIR=/kaniko/ssl/certs \
    DOCKER_CONFIG=/kaniko/.docker/ \
    DOCKER_CREDENTIAL_GCR_CONFIG=/kaniko/.config/gcloud/docker_credential_gcr_config.json
WORKDIR /workspace
ENTRYPOINT ["/kaniko/executor"]

# The same as `prebuilt` plus busybox; written out again so that it needs no other stage.
FROM scratch AS prebuilt-debug
COPY target/image/kaniko/ /kaniko/
COPY target/x86_64-unknown-linux-gnu/release/ /kaniko/
COPY target/image/bin/ /bin/
COPY target/image/busybox/ /busybox/
ENV PATH=/usr/local/bin:/kaniko:/busybox \
    HOME=/root \
    USER=root \
    SSL_CERT_DIR=/kaniko/ssl/certs \
    DOCKER_CONFIG=/kaniko/.docker/ \
    DOCKER_CREDENTIAL_GCR_CONFIG=/kaniko/.config/gcloud/docker_credential_gcr_config.json
VOLUME /busybox
WORKDIR /workspace
ENTRYPOINT ["/kaniko/executor"]

FROM base AS executor
