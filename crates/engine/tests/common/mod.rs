//! The engine's test harness: a base image in an OCI layout directory (made here from the
//! host's busybox-static), a build into a temporary root directory (RUN enters it with
//! chroot: these tests run as root, confined to a default container's capabilities and
//! seccomp filter like the sandbox), the built image's layers read back from their blob files.
#![allow(dead_code)]

use engine::source::LayoutSource;
use engine::{BuildContext, BuildOptions, BuiltImage, LayerSource};
use image::{Digest, Platform};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

/// A gzip tar of busybox-static as /bin/busybox with a few applet links, and its diff_id.
fn busybox_layer() -> (Digest, Vec<u8>) {
    let mut tar = tar::Builder::new(Vec::new());
    let mut dir = |name: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        tar.append_data(&mut h, name, std::io::empty()).unwrap();
    };
    dir("./");
    dir("bin/");
    dir("tmp/");
    let bb = std::fs::read("/bin/busybox").expect("busybox-static installed");
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o755);
    h.set_size(bb.len() as u64);
    tar.append_data(&mut h, "bin/busybox", &bb[..]).unwrap();
    for app in ["sh", "cat", "echo", "mkdir", "ls", "rm", "renice"] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        tar.append_link(&mut h, format!("bin/{app}"), "busybox")
            .unwrap();
    }
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    let gz = gz.finish().unwrap();
    (Digest::sha256(&raw), gz)
}

/// Writes an OCI layout holding one busybox image named `base`.
fn layout(dir: &Path) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = Digest::sha256(bytes);
        std::fs::write(blobs.join(d.hex()), bytes).unwrap();
        d
    };
    let (diff, gz) = busybox_layer();
    let layer = put(&gz);
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [diff]},
    })
    .to_string();
    let cdigest = put(config.as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": image::media::OCI_MANIFEST,
        "config": {"mediaType": image::media::OCI_CONFIG, "digest": cdigest, "size": config.len()},
        "layers": [{"mediaType": image::media::OCI_LAYER_GZIP, "digest": layer, "size": gz.len()}],
    })
    .to_string();
    let mdigest = put(manifest.as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": image::media::OCI_MANIFEST, "digest": mdigest,
            "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": "base"}}],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

pub fn options(root: &Path, work: &Path) -> BuildOptions {
    BuildOptions {
        root: root.to_path_buf(),
        work_dir: work.to_path_buf(),
        platform: Platform::parse("linux/amd64").unwrap(),
        build_args: dockerfile::BuildArgs::new(Vec::<(String, String)>::new()),
        target: None,
        skip_unused_stages: false,
        snapshot_mode: rootfs::SnapshotMode::Full,
        single_snapshot: false,
        layer: rootfs::LayerOptions {
            compression: rootfs::Compression::Gzip,
            level: 1,
            reproducible: false,
        },
        reproducible: false,
        ignore: rootfs::IgnoreList::default(),
        labels: Vec::new(),
        image_format: None,
        force_build_metadata: false,
        unpack: engine::UnpackLimits {
            retries: 0,
            max_expansion: engine::UnpackLimits::DEFAULT_EXPANSION,
            floor: engine::UnpackLimits::FLOOR,
        },
        hash_sources: false,
        materialize: false,
        pre_cleanup: false,
        cache_mounts: work.join("caches"),
        secrets: Default::default(),
        ssh_agent: None,
        uploads: None,
        remote: Default::default(),
    }
}

/// Every file of a layer blob: name → contents (directories and links as empty).
pub fn layer_files(image: &BuiltImage, i: usize) -> BTreeMap<String, Vec<u8>> {
    let LayerSource::Local(path) = &image.layers[i].source else {
        panic!("layer {i} is not a local blob");
    };
    let f = std::fs::File::open(path).unwrap();
    let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(f));
    let mut out = BTreeMap::new();
    for e in tar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        out.insert(name, data);
    }
    out
}

pub fn build(df: &str, ctx_files: &[(&str, &str)]) -> (BuiltImage, tempfile::TempDir) {
    build_with(df, ctx_files, |_| {})
}

pub fn build_with(
    df: &str,
    ctx_files: &[(&str, &str)],
    tweak: impl FnOnce(&mut BuildOptions),
) -> (BuiltImage, tempfile::TempDir) {
    let (image, tmp) = try_build_with(df, ctx_files, tweak);
    (image.unwrap(), tmp)
}

pub fn try_build_with(
    df: &str,
    ctx_files: &[(&str, &str)],
    tweak: impl FnOnce(&mut BuildOptions),
) -> (Result<BuiltImage, engine::BuildError>, tempfile::TempDir) {
    try_build_cached(df, ctx_files, tweak, None, || {})
}

/// [`try_build_with`] with a layer cache (`engine::build_cached`); `then` runs as soon as
/// the build returned, before the runtime stops (and with it every task left).
pub fn try_build_cached(
    df: &str,
    ctx_files: &[(&str, &str)],
    tweak: impl FnOnce(&mut BuildOptions),
    cache: Option<&engine::LayerCache>,
    then: impl FnOnce(),
) -> (Result<BuiltImage, engine::BuildError>, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let (root, work, ctx, oci) = (
        tmp.path().join("root"),
        tmp.path().join("work"),
        tmp.path().join("ctx"),
        tmp.path().join("oci"),
    );
    for d in [&root, &work, &ctx, &oci] {
        std::fs::create_dir_all(d).unwrap();
    }
    for (name, body) in ctx_files {
        std::fs::write(ctx.join(name), body).unwrap();
    }
    layout(&oci);
    let df = dockerfile::parse(df).unwrap();
    let context = BuildContext::open(&ctx, None).unwrap();
    let source = Arc::new(LayoutSource::new(&oci));
    // The runtime's threads and every RUN inherit a Pod's privileges from this thread.
    testkit::sandbox::confine::confine_current_thread().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut opts = options(&root, &work);
    tweak(&mut opts);
    let image = rt.block_on(async {
        let image = match cache {
            None => engine::build(&df, &context, source, &opts).await,
            Some(c) => {
                let outputs = |image| async { image };
                engine::build_cached(&df, &context, source, Some(c), &opts, outputs).await
            }
        };
        then();
        image
    });
    (image, tmp)
}
