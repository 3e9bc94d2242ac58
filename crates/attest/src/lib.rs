//! Supply-chain attestation documents, the library half of attestations: what BuildKit
//! attaches to an image with `--sbom` and `--provenance`, made from what the executor knows.
//! Nothing here knows the command line or how images are pushed.
//!
//! - [`packages::scan`] reads a built root's package databases (dpkg, apk, rpm) and
//!   `/etc/os-release` into an [`packages::Inventory`]; [`sbom::document`] turns it, with the
//!   files COPY/ADD wrote, into an SPDX 2.3 document.
//! - [`provenance::BuildRecord`] is what the executor fills in about a build;
//!   [`provenance::predicate`] writes it as SLSA provenance v0.2 or v1, BuildKit's shape.
//! - [`statement::Statement`] wraps either in an in-toto statement, the attestation layer.
//!
//! The data path: root → [`packages`] → [`sbom`] → [`statement`]; build facts →
//! [`provenance`] → [`statement`].

mod error;
mod inroot;
pub mod os;
pub mod packages;
pub mod provenance;
pub mod purl;
pub mod sbom;
pub mod statement;
mod time;

pub use error::Error;
