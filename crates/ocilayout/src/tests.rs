use super::*;
use image::{Manifest, Platform};
use std::fs;

fn desc(media_type: &str, digest: Digest, size: usize) -> Descriptor {
    Descriptor {
        media_type: media_type.into(),
        digest,
        size: size as u64,
        urls: None,
        annotations: None,
        platform: None,
    }
}

#[test]
fn concurrent_index_updates_lose_nothing() {
    let d = tempfile::tempdir().unwrap();
    let layout = Layout::new(d.path());
    layout.create().unwrap();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let layout = layout.clone();
            std::thread::spawn(move || {
                for j in 0..10 {
                    let digest = layout.put_bytes(format!("{i}-{j}").as_bytes()).unwrap();
                    layout
                        .update_index(|idx| {
                            idx.manifests.push(desc(media::OCI_MANIFEST, digest, 3))
                        })
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(layout.read_index().unwrap().manifests.len(), 80);
    let leftovers: Vec<_> = fs::read_dir(d.path().join("blobs/sha256"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn files_are_linked_or_copied_once() {
    use std::os::unix::fs::MetadataExt;
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    fs::write(&src, b"layer").unwrap();
    let digest = Digest::sha256(b"layer");
    let linked = Layout::new(d.path().join("linked"));
    linked.create().unwrap();
    linked.put_file(&digest, &src, Place::LinkOrCopy).unwrap();
    linked.put_file(&digest, &src, Place::LinkOrCopy).unwrap();
    assert_eq!(fs::read(linked.blob_path(&digest)).unwrap(), b"layer");
    assert_eq!(
        fs::read(linked.dir().join("oci-layout")).unwrap(),
        write_layout_marker()
    );
    let copied = Layout::new(d.path().join("copied"));
    copied.put_file(&digest, &src, Place::Copy).unwrap();
    let ino = |p: &std::path::Path| fs::metadata(p).unwrap().ino();
    assert_eq!(ino(&linked.blob_path(&digest)), ino(&src));
    assert_ne!(ino(&copied.blob_path(&digest)), ino(&src));
}

fn write_layout_marker() -> &'static [u8] {
    br#"{"imageLayoutVersion":"1.0.0"}"#
}

/// A layout holding one image named `base`: a config, a manifest, an index entry.
fn one_image(dir: &std::path::Path) -> (Layout, Descriptor) {
    let layout = Layout::new(dir);
    layout.create().unwrap();
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = layout.put_bytes(config).unwrap();
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        config: desc(media::OCI_CONFIG, config_digest, config.len()),
        layers: vec![],
        annotations: None,
        extra: Default::default(),
    };
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let d = desc(
        media::OCI_MANIFEST,
        layout.put_bytes(&bytes).unwrap(),
        bytes.len(),
    );
    let entry = named(d.clone(), "base");
    layout.update_index(|i| i.manifests.push(entry)).unwrap();
    (layout, d)
}

#[test]
fn images_by_name_or_digest_verified() {
    let d = tempfile::tempdir().unwrap();
    let (layout, manifest) = one_image(d.path());
    let p = Platform::parse("linux/amd64").unwrap();
    let by_name = layout.resolve("base", &p).unwrap();
    assert_eq!(by_name.descriptor.digest, manifest.digest);
    assert_eq!(by_name.config.architecture, "amd64");
    let by_digest = layout.resolve(manifest.digest.as_str(), &p).unwrap();
    assert_eq!(by_digest.media_type, media::OCI_MANIFEST);
    assert_eq!(
        layout.resolve("", &p).unwrap().descriptor,
        by_name.descriptor
    );
    let err = layout.resolve("other", &p).unwrap_err().to_string();
    assert!(err.contains("no image named \"other\""), "{err}");
    // A blob changed on disk is refused.
    fs::write(layout.blob_path(&manifest.digest), b"{}").unwrap();
    let err = layout.resolve("base", &p).unwrap_err().to_string();
    assert!(err.contains("does not match its digest"), "{err}");
}

#[test]
fn indexes_are_bounded_and_a_missing_one_is_empty_only_for_writers() {
    let d = tempfile::tempdir().unwrap();
    let layout = Layout::new(d.path());
    assert!(layout.index_or_empty().unwrap().manifests.is_empty());
    assert!(matches!(layout.read_index(), Err(Error::Read { .. })));
    let big = fs::File::create(d.path().join("index.json")).unwrap();
    big.set_len(9 << 20).unwrap();
    assert!(matches!(
        layout.index_or_empty(),
        Err(Error::TooLarge { .. })
    ));
}
