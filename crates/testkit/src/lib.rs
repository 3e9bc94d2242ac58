//! Test support shared by the crates' and the executor's integration tests.
//!
//! - [`registry`]: Debian's `docker-registry` (the CNCF distribution registry) on a free
//!   loopback port, plain, with htpasswd basic auth, with TLS, or with bearer-token auth.
//! - [`images`]: base images built from `busybox-static` and pushed with `umoci` and `skopeo`.
//! - [`proxy`]: a fault-injecting HTTP proxy in front of a registry.
//! - [`files`]: a small HTTP file server counting the downloads of each path.
//! - [`otlp`]: an OpenTelemetry collector (OTLP over HTTP/protobuf or gRPC) keeping every
//!   span it receives, decoded.
//! - [`leaks`]: where a secret must never be found (a registry's blobs, a disk).
//! - [`docker`]: Debian's dockerd with a private data root, exec root and socket, driven
//!   with the 20.10 `docker` client (BuildKit included) as a user would.
//! - [`podman`]: Debian's podman with a private storage root and configuration, for
//!   `podman kube play`.
//! - [`containerd`]: Debian's containerd with a private root, state and socket, driven with
//!   `ctr` as a user would.
//! - [`servers`]: build-context servers: lighttpd with git's http-backend, moto (S3), the
//!   GCS emulator, Azurite.
//! - [`tokens`]: local stand-ins for Google's, Entra ID's and ACR's token services.
//! - [`sandbox`]: runs the executor as a Pod would, in fresh mount and pid namespaces,
//!   chrooted into a throwaway root holding /kaniko/executor and the context at /workspace,
//!   with a default container's capabilities and seccomp filter.

pub mod cgroups;
pub mod containerd;
pub mod docker;
pub mod files;
pub mod images;
pub mod leaks;
pub mod otlp;
pub mod podman;
pub mod proxy;
pub mod registry;
pub mod sandbox;
pub mod servers;
pub mod tokens;
