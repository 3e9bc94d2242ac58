//! `executor attestations REF [--type sbom|provenance]`: prints what `--sbom` and
//! `--provenance` stored with a pushed image, for users without buildx. The tag names an
//! index; its entries annotated `vnd.docker.reference.type: attestation-manifest` hold one
//! in-toto statement per layer. With `--type`, each matching statement's predicate is
//! printed; without, every statement; one JSON document per line. An index of several
//! platforms holds one attestation manifest per platform image: every one is printed, or
//! with `--platform` only that platform's.

use crate::cli::{AttestationKind, ReadAttestations};
use crate::output::attestations::{ATTESTATION_MANIFEST, REFERENCE_DIGEST, REFERENCE_TYPE};
use crate::registry_client::client_for;
use anyhow::{anyhow, bail, Context as _};
use image::{Descriptor, Digest, Index, Manifest};
use registry::{Client, Reference};
use std::path::Path;
use std::process::ExitCode;

pub fn main(opts: ReadAttestations) -> ExitCode {
    let log = (crate::cli::LogFormat::Text, crate::cli::Level::Warn, false);
    crate::subcommand::run(log, run(&opts))
}

async fn run(opts: &ReadAttestations) -> anyhow::Result<()> {
    let r: Reference = opts
        .reference
        .parse()
        .map_err(|e| anyhow!("invalid image reference {:?}: {e}", opts.reference))?;
    let kaniko_dir = Path::new(crate::cli::DEFAULT_KANIKO_DIR);
    let startup = crate::startup::Startup::capture(resolve::Resolver::from_system());
    let client = client_for(&opts.registry, 0, kaniko_dir, &startup)?;
    let (bytes, _, _) = client.get_manifest(&r).await?;
    let index: Index = serde_json::from_slice(&bytes)
        .ok()
        .filter(|i: &Index| !i.manifests.is_empty())
        .ok_or_else(|| anyhow!("{r} is an image, not an index: it has no attestations"))?;
    let image = match &opts.platform {
        Some(p) => Some(
            index
                .find(p)
                .ok_or_else(|| anyhow!("{r} has no image for {p}"))?,
        ),
        None => None,
    };
    let entries: Vec<&Descriptor> = index
        .manifests
        .iter()
        .filter(|d| is_attestation(d) && image.is_none_or(|i| about(d, &i.digest)))
        .collect();
    if entries.is_empty() {
        bail!("{r} has no attestation manifest");
    }
    let mut printed = 0;
    for entry in entries {
        printed += print_statements(&client, &r, &entry.digest, opts.kind).await?;
    }
    if printed == 0 {
        bail!("{r} has no attestation of that type");
    }
    Ok(())
}

/// The largest statement read: an SBOM lists every file of every package (49 MB for a
/// Debian system of 754 packages and 110,000 files); parsed, it takes a few times that.
const MAX_STATEMENT: u64 = 256 << 20;

/// A statement layer's bytes, verified against its digest and its descriptor's size.
async fn statement_bytes(
    client: &Client,
    r: &Reference,
    layer: &Descriptor,
) -> anyhow::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    if layer.size > MAX_STATEMENT {
        bail!(
            "statement {} is {} bytes, more than {MAX_STATEMENT}",
            layer.digest,
            layer.size
        );
    }
    let mut reader = client
        .blob_reader_sized(r, &layer.digest, Some(layer.size))
        .await?;
    // Grown as bytes arrive, not sized by the registry's word; never past the size.
    let mut bytes = Vec::new();
    (&mut reader)
        .take(layer.size)
        .read_to_end(&mut bytes)
        .await?;
    Ok(bytes)
}

fn is_attestation(d: &Descriptor) -> bool {
    d.annotations
        .as_ref()
        .and_then(|a| a.get(REFERENCE_TYPE))
        .is_some_and(|t| t == ATTESTATION_MANIFEST)
}

/// Whether the attestation manifest `d` is about the image `digest`.
fn about(d: &Descriptor, digest: &Digest) -> bool {
    d.annotations
        .as_ref()
        .and_then(|a| a.get(REFERENCE_DIGEST))
        .is_some_and(|t| t == digest.as_str())
}

fn wanted(predicate_type: &str, kind: Option<AttestationKind>) -> bool {
    match kind {
        None => true,
        Some(AttestationKind::Sbom) => predicate_type == attest::statement::SPDX_DOCUMENT,
        Some(AttestationKind::Provenance) => {
            predicate_type.starts_with("https://slsa.dev/provenance/")
        }
    }
}

/// Prints the statements (or predicates) of the attestation manifest `digest`; how many.
async fn print_statements(
    client: &Client,
    r: &Reference,
    digest: &Digest,
    kind: Option<AttestationKind>,
) -> anyhow::Result<usize> {
    let at = Reference {
        tag: None,
        digest: Some(digest.clone()),
        ..r.clone()
    };
    let (bytes, _, _) = client.get_manifest(&at).await?;
    let manifest: Manifest =
        serde_json::from_slice(&bytes).with_context(|| format!("attestation manifest {digest}"))?;
    let mut printed = 0;
    for layer in &manifest.layers {
        let ty = layer
            .annotations
            .as_ref()
            .and_then(|a| a.get(attest::statement::PREDICATE_TYPE_ANNOTATION))
            .map(String::as_str)
            .unwrap_or("");
        if !wanted(ty, kind) {
            continue;
        }
        let blob = statement_bytes(client, r, layer).await?;
        let statement: serde_json::Value =
            serde_json::from_slice(&blob).with_context(|| format!("statement {}", layer.digest))?;
        let out = match kind {
            Some(_) => &statement["predicate"],
            None => &statement,
        };
        println!("{out}");
        printed += 1;
    }
    Ok(printed)
}
