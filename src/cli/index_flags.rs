//! `executor index`'s raw flags: the sources as arguments, the destinations and digest
//! files as the executor names them, and the shared registry and logging flags.

use super::flags::{LogFlags, RegistryFlags};
use clap::Args;

/// `executor index --destination REPO:TAG [--destination ...] SOURCE...`. The mirror flags
/// are hidden: they serve base images, and `resolve_index` refuses them here.
#[derive(Debug, Args)]
#[command(
    mut_arg("registry_mirror", |a| a.hide(true)),
    mut_arg("registry_map", |a| a.hide(true)),
    mut_arg("skip_default_registry_fallback", |a| a.hide(true))
)]
pub struct IndexFlags {
    /// Images (by tag or digest) to join; an index contributes its entries
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Where to push the index (REPO:TAG); repeatable
    #[arg(short = 'd', long, allow_hyphen_values = true)]
    pub destination: Vec<String>,
    /// Write the index digest to this file
    #[arg(long, allow_hyphen_values = true)]
    pub digest_file: Option<String>,
    /// Write repo@digest for each destination to this file
    #[arg(long, allow_hyphen_values = true)]
    pub image_name_with_digest_file: Option<String>,
    /// Write repo:tag@digest for each destination to this file
    #[arg(long, allow_hyphen_values = true)]
    pub image_name_tag_with_digest_file: Option<String>,
    /// Retries for each push request [default: 0]
    #[arg(long, allow_hyphen_values = true)]
    pub push_retry: Option<String>,
    #[command(flatten)]
    pub registry: RegistryFlags,
    #[command(flatten)]
    pub log: LogFlags,
}
