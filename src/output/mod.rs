//! Where a built image goes: registries (`--destination`), a docker-archive tarball
//! (`--tar-path`), an OCI layout (`--oci-layout-path`), and the digest files, written only
//! after everything else succeeded.

mod blobs;
mod digest_files;
pub mod image;
mod layout;
mod push;
mod stream;
mod tarball;

pub use blobs::{BlobCache, BlobError};
pub use digest_files::{write_digest_files, DigestFiles};
pub use layout::write_layout;
pub use push::{push_all, ImmutableTags};
pub use stream::StreamedUploads;
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
