//! Attestations stored as BuildKit stores them (its "attestation storage"): the pushed
//! object becomes an image index holding the image manifest (with its platform) and an
//! attestation manifest (platform `unknown/unknown`, annotations
//! `vnd.docker.reference.type: attestation-manifest` and `vnd.docker.reference.digest:
//! <image digest>`) whose layers are in-toto statements about the image
//! (`application/vnd.in-toto+json`, each annotated with `in-toto.io/predicate-type`).
//!
//! [`attestation_manifest`] builds one image's from its descriptor and the predicates,
//! with no I/O (`images::PlatformImage::attest` calls it per platform image; the index
//! over images and attestation manifests is `images::ImageSet`'s); [`push_parts`] puts
//! the attestation's own parts under a destination by digest, so that only the index is
//! tagged.

use super::OutputError;
use attest::statement::{self, Statement, Subject, Version};
use image::{media, Descriptor, Digest, Platform};
use registry::{Client, Reference};
use std::collections::BTreeMap;

pub const REFERENCE_TYPE: &str = "vnd.docker.reference.type";
pub const REFERENCE_DIGEST: &str = "vnd.docker.reference.digest";
pub const ATTESTATION_MANIFEST: &str = "attestation-manifest";
/// The attestation manifest's `artifactType` (BuildKit's).
pub const ARTIFACT_TYPE: &str = "application/vnd.docker.attestation.manifest.v1+json";
/// OCI's empty descriptor: `{}` as `application/vnd.oci.empty.v1+json`.
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_JSON: &[u8] = b"{}";

/// One predicate to state about the image.
#[derive(Clone, Debug)]
pub struct Predicate {
    pub predicate_type: String,
    /// The predicate's JSON, already written (an SBOM can be tens of megabytes).
    pub body: Box<serde_json::value::RawValue>,
}

/// The subjects' names: the destinations as purls with the image's platform, as BuildKit
/// names them (`_` for an unnamed image).
pub fn subject_names(destinations: &[Reference], platform: &Platform) -> Vec<String> {
    let mut names: Vec<String> = destinations
        .iter()
        .map(|d| {
            let name = attest::purl::ImageName {
                registry: d.registry.clone(),
                repository: d.repository.clone(),
                tag: d.tag.clone(),
                digest: None,
            };
            attest::purl::image(&name, Some(&platform.to_string()))
        })
        .collect();
    if names.is_empty() {
        names.push("_".into()); // BuildKit's subject name for an unnamed image
    }
    names
}

/// One image's attestation manifest: what the image set's index lists after the images.
#[derive(Clone, Debug)]
pub struct AttestationManifest {
    pub image: Descriptor,
    pub manifest: Vec<u8>,
    /// Its index entry (platform `unknown/unknown`, the reference annotations).
    pub manifest_desc: Descriptor,
    /// Its config and statement layers.
    pub blobs: Vec<(Descriptor, Vec<u8>)>,
}

/// The attestation manifest stating `predicates` about `image` (subjects: `names`).
pub fn attestation_manifest(
    image: Descriptor,
    names: &[String],
    predicates: &[Predicate],
) -> Result<AttestationManifest, OutputError> {
    let subjects: Vec<Subject> = names
        .iter()
        .filter_map(|n| Subject::new(n.clone(), image.digest.as_str()))
        .collect();
    let mut blobs = predicates
        .iter()
        .map(|p| statement_layer(&subjects, p))
        .collect::<Result<Vec<_>, _>>()?;
    let layers: Vec<Descriptor> = blobs.iter().map(|(d, _)| d.clone()).collect();
    // OCI 1.1's artifact form, as BuildKit writes it with `oci-artifact` (its default with
    // OCI media types since v0.32): the empty config, an artifact type, the image as subject.
    let config_desc = plain(EMPTY_MEDIA_TYPE, EMPTY_JSON);
    blobs.insert(0, (config_desc.clone(), EMPTY_JSON.to_vec()));
    let subject = Descriptor {
        platform: None,
        ..image.clone()
    };
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": config_desc,
        "layers": layers,
        "subject": subject,
    }))
    .map_err(|e| OutputError::Attestation(e.to_string()))?;
    let manifest_desc = Descriptor {
        annotations: Some(BTreeMap::from([
            (REFERENCE_DIGEST.to_string(), image.digest.to_string()),
            (REFERENCE_TYPE.to_string(), ATTESTATION_MANIFEST.to_string()),
        ])),
        platform: Some(Platform {
            architecture: "unknown".into(),
            os: "unknown".into(),
            variant: None,
            os_version: None,
        }),
        ..plain(media::OCI_MANIFEST, &manifest)
    };
    Ok(AttestationManifest {
        image,
        manifest,
        manifest_desc,
        blobs,
    })
}

/// One statement about `subjects` as an attestation layer, annotated with its predicate type.
fn statement_layer(
    subjects: &[Subject],
    p: &Predicate,
) -> Result<(Descriptor, Vec<u8>), OutputError> {
    let bytes = Statement::new(Version::V01, subjects, &p.predicate_type, &p.body)
        .to_vec()
        .map_err(|e| OutputError::Attestation(e.to_string()))?;
    let desc = Descriptor {
        annotations: Some(BTreeMap::from([(
            statement::PREDICATE_TYPE_ANNOTATION.to_string(),
            p.predicate_type.clone(),
        )])),
        ..plain(statement::MEDIA_TYPE, &bytes)
    };
    Ok((desc, bytes))
}

fn plain(media_type: &str, bytes: &[u8]) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest: Digest::sha256(bytes),
        size: bytes.len() as u64,
        urls: None,
        annotations: None,
        platform: None,
    }
}

/// Puts under `dest`, by digest, the attestation blobs and manifest (the image's manifest
/// is pushed already), and the referrers fallback tag when the registry has no referrers
/// API.
pub async fn push_parts(
    client: &Client,
    dest: &Reference,
    attestation: &AttestationManifest,
) -> Result<(), OutputError> {
    for (desc, bytes) in &attestation.blobs {
        client.upload_blob(dest, desc, bytes, None).await?;
    }
    let by_digest = Reference {
        tag: None,
        digest: Some(attestation.manifest_desc.digest.clone()),
        ..dest.clone()
    };
    client
        .put_manifest(&by_digest, &attestation.manifest, media::OCI_MANIFEST)
        .await?;
    if !client
        .referrers_api(dest, &attestation.image.digest)
        .await?
    {
        referrers_tag(client, dest, attestation).await?;
    }
    Ok(())
}

/// OCI 1.1's tag-schema fallback for a registry without the referrers API: the index
/// tagged `sha256-<image hex>` lists the attestation manifest beside what it listed.
async fn referrers_tag(
    client: &Client,
    dest: &Reference,
    attestation: &AttestationManifest,
) -> Result<(), OutputError> {
    let d = &attestation.image.digest;
    let tag = Reference {
        tag: Some(format!("{}-{}", d.algorithm(), d.hex())),
        digest: None,
        ..dest.clone()
    };
    let mut entries: Vec<serde_json::Value> = match client.get_manifest(&tag).await {
        Ok((bytes, _, _)) => serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["manifests"].as_array().cloned())
            .unwrap_or_default(),
        Err(e) if e.status() == Some(404) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let ours = &attestation.manifest_desc;
    entries.retain(|e| e["digest"] != ours.digest.as_str());
    entries.push(serde_json::json!({
        "mediaType": media::OCI_MANIFEST,
        "digest": ours.digest,
        "size": ours.size,
        "artifactType": ARTIFACT_TYPE,
    }));
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": entries,
    });
    let bytes = serde_json::to_vec(&index).map_err(|e| OutputError::Attestation(e.to_string()))?;
    client.put_manifest(&tag, &bytes, media::OCI_INDEX).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_descriptor(media_type: &str, digest: &Digest, size: u64, p: Platform) -> Descriptor {
        Descriptor {
            digest: digest.clone(),
            platform: Some(p),
            size,
            ..plain(media_type, b"")
        }
    }

    #[test]
    fn index_over_image_and_attestations() {
        let img = image_descriptor(
            media::DOCKER_MANIFEST,
            &Digest::sha256(b"m"),
            1,
            Platform::parse("linux/amd64").unwrap_or_default(),
        );
        let p = Predicate {
            predicate_type: statement::SPDX_DOCUMENT.into(),
            body: serde_json::value::to_raw_value(&serde_json::json!({"spdxVersion": "SPDX-2.3"}))
                .unwrap(),
        };
        let a = attestation_manifest(img.clone(), &["pkg:docker/app@1".into()], &[p]).unwrap();
        let entries = vec![a.image.clone(), a.manifest_desc.clone()];
        let (index_bytes, index_desc) = image::Index::over(entries).to_bytes();
        let index: serde_json::Value = serde_json::from_slice(&index_bytes).unwrap();
        assert_eq!(index["mediaType"], media::OCI_INDEX);
        assert_eq!(index["manifests"][0]["platform"]["architecture"], "amd64");
        let att = &index["manifests"][1];
        assert_eq!(att["platform"]["os"], "unknown");
        assert_eq!(att["annotations"][REFERENCE_DIGEST], img.digest.as_str());
        assert_eq!(att["annotations"][REFERENCE_TYPE], ATTESTATION_MANIFEST);
        let m: serde_json::Value = serde_json::from_slice(&a.manifest).unwrap();
        assert_eq!(m["artifactType"], ARTIFACT_TYPE);
        assert_eq!(m["subject"]["digest"], img.digest.as_str());
        assert!(m["subject"].get("platform").is_none());
        assert_eq!(m["config"]["mediaType"], EMPTY_MEDIA_TYPE);
        assert_eq!(m["config"]["size"], 2);
        assert_eq!(m["layers"][0]["mediaType"], "application/vnd.in-toto+json");
        assert_eq!(
            m["layers"][0]["annotations"]["in-toto.io/predicate-type"],
            "https://spdx.dev/Document"
        );
        let layer = &a.blobs[1].1;
        let st: serde_json::Value = serde_json::from_slice(layer).unwrap();
        assert_eq!(st["subject"][0]["digest"]["sha256"], img.digest.hex());
        assert_eq!(index_desc.digest, Digest::sha256(&index_bytes));
    }
}
