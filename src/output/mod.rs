//! Where the built images go (one per target platform, [`ImageSet`]; an index over several): registries (`--destination`), a docker-archive tarball
//! (`--tar-path`), an OCI layout (`--oci-layout-path`), and the digest files, written only
//! after everything else succeeded, and Cloud Build's `$BUILDER_OUTPUT/images`.

mod all;
pub mod attestations;
mod blobs;
mod builder_output;
mod digest_files;
mod images;
mod layout;
mod push;
mod stream;
mod tarball;

pub use all::write_all;
pub use blobs::{BlobCache, BlobError};
pub use digest_files::{write_digest_files, DigestFiles};
pub use images::{ImageSet, PlatformImage};
pub use push::ImmutableTags;
pub use stream::StreamedUploads;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Registry(#[from] registry::Error),
    #[error(transparent)]
    Layout(#[from] ocilayout::Error),
    #[error("attestation: {0}")]
    Attestation(String),
    #[error("writing {0}: {1}")]
    Io(std::path::PathBuf, std::io::Error),
}
