//! `--tar-path`: a `docker save`-style archive (manifest.json, the config, one file per
//! layer blob) that `docker load` and `skopeo copy docker-archive:` accept. With
//! attestations it is laid out as Docker 25's `docker save` writes it: every blob under
//! `blobs/sha256/`, and `oci-layout` plus `index.json` naming the image index beside
//! manifest.json, so OCI readers find the attestation manifest too.

use super::attestations::Attached;
use super::blobs::BlobCache;
use super::OutputError;
use engine::{BuiltImage, Finished};
use registry::{Client, Reference};
use std::path::Path;

pub async fn write_tarball(
    path: &Path,
    built: &BuiltImage,
    fin: &Finished,
    tags: &[Reference],
    client: &Client,
    cache: &BlobCache,
    attached: Option<&Attached>,
) -> Result<(), OutputError> {
    let name = |d: &image::Digest, ext: &str| match attached {
        Some(_) => format!("blobs/sha256/{}", d.hex()),
        None => format!("{}{ext}", d.hex()),
    };
    let mut layer_files = Vec::new();
    for layer in &built.layers {
        layer_files.push((
            cache.path(client, layer).await?,
            name(&layer.desc.digest, ".tar.gz"),
        ));
    }
    let config_name = name(&fin.manifest.config.digest, ".json");
    let repo_tags: Vec<String> = tags
        .iter()
        .map(|t| format!("{}:{}", t.repo_str(), t.tag.as_deref().unwrap_or("latest")))
        .collect();
    let manifest = serde_json::json!([{
        "Config": config_name,
        "RepoTags": repo_tags,
        "Layers": layer_files.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
    }]);
    let io = |e| OutputError::Io(path.to_path_buf(), e);
    let tmp = path.with_extension("partial");
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let mut tar = tar::Builder::new(std::io::BufWriter::with_capacity(1 << 20, file));
    append_bytes(&mut tar, &config_name, &fin.config).map_err(io)?;
    let mut seen = std::collections::HashSet::new();
    for (src, name) in &layer_files {
        if seen.insert(name.clone()) {
            tar.append_path_with_name(src, name).map_err(io)?;
        }
    }
    if let Some(a) = attached {
        append_oci(&mut tar, a, &fin.manifest_bytes).map_err(io)?;
    }
    append_bytes(&mut tar, "manifest.json", manifest.to_string().as_bytes()).map_err(io)?;
    tar.into_inner()
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
        .map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The image manifest, the attestation blobs and manifest, the index, `oci-layout` and
/// `index.json` naming the index.
fn append_oci<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    a: &Attached,
    image_manifest: &[u8],
) -> std::io::Result<()> {
    let blob = |d: &image::Digest| format!("blobs/sha256/{}", d.hex());
    append_bytes(tar, &blob(&a.image.digest), image_manifest)?;
    for (desc, bytes) in &a.blobs {
        append_bytes(tar, &blob(&desc.digest), bytes)?;
    }
    append_bytes(tar, &blob(&a.manifest_desc.digest), &a.manifest)?;
    append_bytes(tar, &blob(&a.index_desc.digest), &a.index)?;
    let mut index = ocilayout::empty_index();
    index.manifests.push(a.index_desc.clone());
    let index = serde_json::to_vec(&index).map_err(std::io::Error::other)?;
    append_bytes(tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    append_bytes(tar, "index.json", &index)
}

fn append_bytes<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    bytes: &[u8],
) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o644);
    tar.append_data(&mut h, name, bytes)
}
