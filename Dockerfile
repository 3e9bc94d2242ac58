# The executor image, as kaniko ships it: FROM scratch, no libc, no shell.
# Build the static binary first: cargo build --release --bins
FROM scratch
COPY target/x86_64-unknown-linux-gnu/release/executor /kaniko/executor
COPY --chmod=0755 target/x86_64-unknown-linux-gnu/release/executor /kaniko/warmer
ENV PATH=/usr/local/bin:/kaniko \
    HOME=/root \
    USER=root \
    SSL_CERT_DIR=/kaniko/ssl/certs \
    DOCKER_CONFIG=/kaniko/.docker/ \
    DOCKER_CREDENTIAL_GCR_CONFIG=/kaniko/.config/gcloud/docker_credential_gcr_config.json
WORKDIR /workspace
ENTRYPOINT ["/kaniko/executor"]
