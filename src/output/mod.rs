//! Where a built image goes: registries (`--destination`), a docker-archive tarball
//! (`--tar-path`), an OCI layout (`--oci-layout-path`), and the digest files, written only
//! after everything else succeeded, and Cloud Build's `$BUILDER_OUTPUT/images`.

mod blobs;
mod builder_output;
mod digest_files;
pub mod image;
mod layout;
mod push;
mod tarball;

pub use blobs::{BlobCache, BlobError};
pub use builder_output::{write_builder_output, BUILDER_OUTPUT};
pub use digest_files::{write_digest_files, DigestFiles};
pub use layout::write_layout;
pub use push::{push_all, ImmutableTags};
pub use tarball::write_tarball;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Registry(#[from] registry::Error),
    #[error("writing {0}: {1}")]
    Io(std::path::PathBuf, std::io::Error),
}
