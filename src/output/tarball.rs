//! `--tar-path`: a `docker save`-style archive (manifest.json, the config, one file per
//! layer blob) that `docker load` and `skopeo copy docker-archive:` accept. With several
//! platforms `docker load` cannot take them all (it loads no index), so the archive is
//! also an OCI image layout, as buildx's `--output type=oci` and Docker 25's `docker save`
//! write: `oci-layout`, `index.json` naming the index (tagged by its first destination's
//! tag in `org.opencontainers.image.ref.name`), every blob under `blobs/sha256/`; and its
//! manifest.json lists the one image `docker load` gets, this host's platform (else the
//! first). `skopeo copy --all oci-archive:` reads every platform. Attestations make an
//! index too (one image and its attestation manifest): their blobs and manifests are
//! among the blobs, so OCI readers find them.

use super::blobs::BlobCache;
use super::images::{ImageSet, PlatformImage};
use super::OutputError;
use registry::{Client, Reference};
use std::io::Write;
use std::path::{Path, PathBuf};

pub async fn write_tarball(
    path: &Path,
    set: &ImageSet,
    tags: &[Reference],
    client: &Client,
    cache: &BlobCache,
) -> Result<(), OutputError> {
    let repo_tags: Vec<String> = tags
        .iter()
        .map(|t| format!("{}:{}", t.repo_str(), t.tag.as_deref().unwrap_or("latest")))
        .collect();
    let io = |e| OutputError::Io(path.to_path_buf(), e);
    let tmp = path.with_extension("partial");
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let mut tar = tar::Builder::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let mut seen = std::collections::HashSet::new();
    match (set.index(), set.for_host()) {
        (Some(top), Some(host)) => {
            for img in &set.images {
                let files = layer_files(img, client, cache, "blobs/sha256/", "").await?;
                append_image(&mut tar, img, &files, "blobs/sha256/", &mut seen).map_err(io)?;
                let manifest = format!("blobs/sha256/{}", img.fin.digest.hex());
                if seen.insert(manifest.clone()) {
                    append_bytes(&mut tar, &manifest, &img.fin.manifest_bytes).map_err(io)?;
                }
            }
            for (digest, bytes) in set.attestation_parts() {
                let name = format!("blobs/sha256/{}", digest.hex());
                if seen.insert(name.clone()) {
                    append_bytes(&mut tar, &name, bytes).map_err(io)?;
                }
            }
            let name = format!("blobs/sha256/{}", top.desc.digest.hex());
            append_bytes(&mut tar, &name, &top.bytes).map_err(io)?;
            let mut entry = top.desc.clone();
            let ref_name = tags.first().and_then(|t| t.tag.clone());
            entry.annotations = ref_name.map(|t| {
                [("org.opencontainers.image.ref.name".to_string(), t)]
                    .into_iter()
                    .collect()
            });
            let mut index = ocilayout::empty_index();
            index.manifests.push(entry);
            let index = serde_json::to_vec(&index).unwrap_or_default();
            append_bytes(&mut tar, "index.json", &index).map_err(io)?;
            let layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
            append_bytes(&mut tar, "oci-layout", layout).map_err(io)?;
            let files = layer_files(host, client, cache, "blobs/sha256/", "").await?;
            let manifest = docker_manifest(host, &files, "blobs/sha256/", &repo_tags);
            append_bytes(&mut tar, "manifest.json", manifest.as_bytes()).map_err(io)?;
        }
        (_, Some(img)) => {
            let files = layer_files(img, client, cache, "", ".tar.gz").await?;
            append_image(&mut tar, img, &files, "", &mut seen).map_err(io)?;
            let manifest = docker_manifest(img, &files, "", &repo_tags);
            append_bytes(&mut tar, "manifest.json", manifest.as_bytes()).map_err(io)?;
        }
        (_, None) => {}
    }
    let w = tar.into_inner().map_err(io)?;
    let mut file = w.into_inner().map_err(|e| io(e.into_error()))?;
    file.flush().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Each layer's blob file and its name in the archive (`<prefix><hex><suffix>`).
async fn layer_files(
    img: &PlatformImage,
    client: &Client,
    cache: &BlobCache,
    prefix: &str,
    suffix: &str,
) -> Result<Vec<(PathBuf, String)>, OutputError> {
    let mut out = Vec::new();
    for layer in &img.built.layers {
        let name = format!("{prefix}{}{suffix}", layer.desc.digest.hex());
        out.push((cache.path(client, layer).await?, name));
    }
    Ok(out)
}

/// The config (`<prefix><hex>` or `<hex>.json`) and the layers not written yet.
fn append_image<W: Write>(
    tar: &mut tar::Builder<W>,
    img: &PlatformImage,
    files: &[(PathBuf, String)],
    prefix: &str,
    seen: &mut std::collections::HashSet<String>,
) -> std::io::Result<()> {
    let config = config_name(img, prefix);
    if seen.insert(config.clone()) {
        append_bytes(tar, &config, &img.fin.config)?;
    }
    for (src, name) in files {
        if seen.insert(name.clone()) {
            tar.append_path_with_name(src, name)?;
        }
    }
    Ok(())
}

fn config_name(img: &PlatformImage, prefix: &str) -> String {
    let hex = img.fin.manifest.config.digest.hex();
    match prefix {
        "" => format!("{hex}.json"),
        p => format!("{p}{hex}"),
    }
}

/// `docker load`'s manifest.json: one image.
fn docker_manifest(
    img: &PlatformImage,
    files: &[(PathBuf, String)],
    prefix: &str,
    repo_tags: &[String],
) -> String {
    serde_json::json!([{
        "Config": config_name(img, prefix),
        "RepoTags": repo_tags,
        "Layers": files.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>(),
    }])
    .to_string()
}

fn append_bytes<W: Write>(
    tar: &mut tar::Builder<W>,
    name: &str,
    bytes: &[u8],
) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o644);
    tar.append_data(&mut h, name, bytes)
}
