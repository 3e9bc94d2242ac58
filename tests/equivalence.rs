//! The fast paths give the same image as the slow, obvious one. The default build uses a
//! per-step metadata snapshot, targeted COPY snapshots, the table filled while unpacking and
//! parallel gzip; `--single-snapshot --snapshot-mode=full --compression=zstd` takes one full
//! walk at the end through another compressor. Both images, unpacked by umoci, must hold the
//! same files with the same modes, owners, link targets and contents.

mod common;
use common::*;
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// path → (mode, uid, gid, what: content hash or link target or "dir")
fn tree(root: &Path) -> BTreeMap<String, (u32, u32, u32, String)> {
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let e = e.unwrap();
        let m = e.path().symlink_metadata().unwrap();
        let what = if m.file_type().is_symlink() {
            format!("-> {}", std::fs::read_link(e.path()).unwrap().display())
        } else if m.is_file() {
            hex::encode(sha2::Sha256::digest(std::fs::read(e.path()).unwrap()))
        } else {
            "dir".into()
        };
        let rel = e.path().strip_prefix(root).unwrap().display().to_string();
        out.insert(rel, (m.mode(), m.uid(), m.gid(), what));
    }
    out
}

#[test]
fn fast_and_slow_paths_build_the_same_files() {
    let reg = registry_with_busybox();
    let df = format!(
        r#"FROM {}/library/busybox:latest
COPY src /app/src
COPY --chown=app:app --chmod=0750 tool.sh /usr/local/bin/tool
RUN mkdir -p /data/a/b && for i in $(seq 1 100); do echo $i > /data/a/b/part$i; done && ln /data/a/b/part1 /data/hard && ln -s /data/a /data/link
RUN rm -rf /app/src/gone /etc/group && chmod 600 /etc/passwd && chown app /data/a && echo changed >> /app/src/keep.txt
WORKDIR /srv/work
RUN yes 0123456789abcdef | head -c 3000000 > blob && touch -d @0 /app/src/keep.txt
"#,
        reg.addr
    );
    let ctx = context(&[
        ("Dockerfile", &df),
        ("src/keep.txt", "keep\n"),
        ("src/gone/x.txt", "x"),
        ("src/nested/deep/file.txt", "deep"),
        ("tool.sh", "#!/bin/sh\necho tool\n"),
    ]);
    let fast = format!("{}/test/eq:fast", reg.addr);
    let slow = format!("{}/test/eq:slow", reg.addr);
    build_ok(ctx.path(), &["--destination", &fast]);
    build_ok(
        ctx.path(),
        &[
            "--destination",
            &slow,
            "--single-snapshot",
            "--snapshot-mode",
            "full",
            "--compression",
            "zstd",
            "--compression-level",
            "1",
            "--reproducible",
        ],
    );
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let fast_root = testkit::images::unpack(&reg.addr, "test/eq:fast", a.path())
        .unwrap()
        .join("rootfs");
    // Debian's umoci cannot unpack zstd layers: rebuild the slow image with gzip for the
    // comparison, keeping the single full snapshot.
    let slow_gz = format!("{}/test/eq:slowgz", reg.addr);
    build_ok(
        ctx.path(),
        &[
            "--destination",
            &slow_gz,
            "--single-snapshot",
            "--snapshot-mode",
            "full",
            "--reproducible",
        ],
    );
    let slow_root = testkit::images::unpack(&reg.addr, "test/eq:slowgz", b.path())
        .unwrap()
        .join("rootfs");
    let (ta, tb) = (tree(&fast_root), tree(&slow_root));
    assert!(
        ta.contains_key("data/hard")
            && ta.contains_key("usr/local/bin/tool")
            && ta.contains_key("srv/work/blob")
    );
    assert!(!ta.contains_key("app/src/gone") && !ta.contains_key("etc/group"));
    let diff: Vec<_> = ta
        .iter()
        .filter(|(k, v)| tb.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    let missing: Vec<_> = tb.keys().filter(|k| !ta.contains_key(*k)).collect();
    assert!(
        diff.is_empty() && missing.is_empty(),
        "differ: {diff:?}; only in slow: {missing:?}"
    );
    // With --reproducible the zstd image holds the same tar as the gzip one (same diff_ids).
    let cz = testkit::images::inspect_raw(&reg.addr, "test/eq:slow", true).unwrap();
    let cg = testkit::images::inspect_raw(&reg.addr, "test/eq:slowgz", true).unwrap();
    assert_eq!(cz["rootfs"]["diff_ids"], cg["rootfs"]["diff_ids"]);
}
