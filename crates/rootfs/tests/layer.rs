//! Layer blobs read back: entries in order with parents, modes, owners, whiteouts, hardlinks,
//! xattrs and long names; digests equal the sha256 of the bytes; reproducible output.

mod common;

use common::{read_tar, Got};
use rootfs::{write_layer, Changes, Compression, LayerOptions};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tar::EntryType;

fn sha(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

fn opts(compression: Compression, reproducible: bool) -> LayerOptions {
    LayerOptions {
        compression,
        level: -1,
        reproducible,
    }
}

fn tree() -> (tempfile::TempDir, Changes) {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    fs::create_dir_all(r.join("usr/bin")).unwrap();
    fs::write(r.join("usr/bin/tool"), b"#!/bin/sh\necho hi\n").unwrap();
    std::os::unix::fs::chown(r.join("usr/bin/tool"), Some(1001), Some(1002)).unwrap();
    fs::set_permissions(r.join("usr/bin/tool"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::hard_link(r.join("usr/bin/tool"), r.join("usr/bin/tool2")).unwrap();
    std::os::unix::fs::symlink("tool", r.join("usr/bin/alias")).unwrap();
    let long = format!("opt/{}/{}", "d".repeat(120), "f".repeat(110));
    fs::create_dir_all(r.join(&long).parent().unwrap()).unwrap();
    fs::write(r.join(&long), b"long").unwrap();
    fs::create_dir_all(r.join("etc")).unwrap();
    nix::unistd::mkfifo(
        &r.join("etc/fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .unwrap();
    let changes = Changes {
        entries: vec![
            PathBuf::from("/usr/bin/alias"),
            PathBuf::from("/usr/bin/tool"),
            PathBuf::from("/usr/bin/tool2"),
            PathBuf::from(format!("/{long}")),
            PathBuf::from("/etc/fifo"),
        ],
        deleted: vec![PathBuf::from("/etc/removed"), PathBuf::from("/gone-dir")],
    };
    (d, changes)
}

fn decompress(path: &Path, c: Compression) -> Vec<u8> {
    let raw = fs::read(path).unwrap();
    let mut out = Vec::new();
    match c {
        Compression::Gzip => {
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .unwrap();
        }
        Compression::Zstd => {
            zstd::stream::read::Decoder::new(&raw[..])
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
        }
        Compression::None => out = raw,
    }
    out
}

#[test]
fn layer_contents_and_digests() {
    let (d, changes) = tree();
    let tmp = tempfile::tempdir().unwrap();
    for c in [Compression::Gzip, Compression::Zstd, Compression::None] {
        let blob = write_layer(d.path(), &changes, &opts(c, false), tmp.path()).unwrap();
        assert!(blob.path.starts_with(tmp.path()));
        let raw = fs::read(&blob.path).unwrap();
        assert_eq!(blob.digest.to_string(), sha(&raw), "{c:?}");
        assert_eq!(blob.size, raw.len() as u64);
        let tar = decompress(&blob.path, c);
        assert_eq!(blob.diff_id.to_string(), sha(&tar), "{c:?}");
        // Also through the crate's own detection.
        let mut via = Vec::new();
        rootfs::decompressor(std::io::BufReader::new(&raw[..]))
            .unwrap()
            .read_to_end(&mut via)
            .unwrap();
        assert_eq!(via, tar);

        let got = read_tar(&tar[..]);
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        let long = changes.entries[3].to_str().unwrap().trim_start_matches('/');
        let long_parent = format!("{}/", Path::new(long).parent().unwrap().to_str().unwrap());
        assert_eq!(
            names,
            [
                ".wh.gone-dir",
                "etc/",
                "etc/.wh.removed",
                "etc/fifo",
                "opt/",
                long_parent.as_str(),
                long,
                "usr/",
                "usr/bin/",
                "usr/bin/alias",
                "usr/bin/tool",
                "usr/bin/tool2",
            ]
        );
        let by: std::collections::HashMap<&str, &Got> =
            got.iter().map(|(n, g)| (n.as_str(), g)).collect();
        let tool = by["usr/bin/tool"];
        assert_eq!(tool.kind, EntryType::Regular);
        assert_eq!(tool.mode, 0o4755);
        assert_eq!((tool.uid, tool.gid), (1001, 1002));
        assert_eq!(tool.data, b"#!/bin/sh\necho hi\n");
        assert_ne!(tool.mtime, 0);
        let tool2 = by["usr/bin/tool2"];
        assert_eq!(tool2.kind, EntryType::Link);
        assert_eq!(tool2.link, "usr/bin/tool");
        assert_eq!(by["usr/bin/alias"].kind, EntryType::Symlink);
        assert_eq!(by["usr/bin/alias"].link, "tool");
        assert_eq!(by["etc/.wh.removed"].kind, EntryType::Regular);
        assert_eq!(by["usr/"].kind, EntryType::Directory);
        assert_eq!(by["etc/fifo"].kind, EntryType::Fifo);
        assert_eq!(by["etc/fifo"].mode, 0o600);
        assert_eq!(by[long].data, b"long");
        // Sorted: parents come before their children, whiteouts in place.
        let mut sorted: Vec<PathBuf> = names.iter().map(PathBuf::from).collect();
        sorted.sort();
        assert_eq!(sorted, names.iter().map(PathBuf::from).collect::<Vec<_>>());
    }
}

#[test]
fn reproducible_layers_are_identical_and_epoch_dated() {
    let (d, changes) = tree();
    let tmp = tempfile::tempdir().unwrap();
    for c in [Compression::Gzip, Compression::Zstd] {
        let a = write_layer(d.path(), &changes, &opts(c, true), tmp.path()).unwrap();
        // Touch every file: mtimes change, the reproducible layer does not.
        for p in &changes.entries {
            let host = d.path().join(p.strip_prefix("/").unwrap());
            if host.is_file() {
                fs::File::options()
                    .write(true)
                    .open(&host)
                    .unwrap()
                    .set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(99))
                    .unwrap();
            }
        }
        let b = write_layer(d.path(), &changes, &opts(c, true), tmp.path()).unwrap();
        assert_eq!(a.digest, b.digest, "{c:?}");
        assert_eq!(a.diff_id, b.diff_id);
        assert_ne!(a.path, b.path);
        let got = read_tar(&decompress(&a.path, c)[..]);
        assert!(got.iter().all(|(_, g)| g.mtime == 0));
    }
}

#[test]
fn xattrs_are_written_as_pax_records() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("capfile");
    fs::write(&f, b"x").unwrap();
    let set = std::process::Command::new("setfattr")
        .args(["-n", "user.kaniko", "-v", "yes"])
        .arg(&f)
        .status();
    if !set.is_ok_and(|s| s.success()) {
        // No setfattr here: set it through libc.
        use std::os::unix::ffi::OsStrExt;
        let p = std::ffi::CString::new(f.as_os_str().as_bytes()).unwrap();
        // SAFETY: valid C strings and value buffer.
        let rc = unsafe {
            libc::lsetxattr(
                p.as_ptr(),
                c"user.kaniko".as_ptr(),
                b"yes".as_ptr().cast(),
                3,
                0,
            )
        };
        assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    }
    let changes = Changes {
        entries: vec![PathBuf::from("/capfile")],
        deleted: vec![],
    };
    let tmp = tempfile::tempdir().unwrap();
    let blob = write_layer(
        d.path(),
        &changes,
        &opts(Compression::None, true),
        tmp.path(),
    )
    .unwrap();
    let got = read_tar(fs::File::open(&blob.path).unwrap());
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].1.xattrs,
        vec![("user.kaniko".to_string(), b"yes".to_vec())]
    );
    // And the extractor puts it back.
    let out = tempfile::tempdir().unwrap();
    rootfs::extract_layer(
        fs::File::open(&blob.path).unwrap(),
        out.path(),
        &rootfs::IgnoreList::default(),
        None,
    )
    .unwrap();
    let back = tempfile::tempdir().unwrap();
    let again = write_layer(
        out.path(),
        &changes,
        &opts(Compression::None, true),
        back.path(),
    )
    .unwrap();
    assert_eq!(
        again.diff_id, blob.diff_id,
        "round trip keeps every header field"
    );
}

#[test]
fn empty_changes_give_a_valid_empty_layer() {
    let d = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let blob = write_layer(
        d.path(),
        &Changes::default(),
        &opts(Compression::Gzip, true),
        tmp.path(),
    )
    .unwrap();
    let tar = decompress(&blob.path, Compression::Gzip);
    assert_eq!(tar.len(), 1024);
    assert!(read_tar(&tar[..]).is_empty());
}

#[test]
fn compression_levels_apply_and_all_decode() {
    let d = tempfile::tempdir().unwrap();
    // Compressible content, large enough for levels to differ.
    let text: Vec<u8> = (0..400_000u32)
        .flat_map(|i| format!("line {} of {}\n", i % 977, i % 13).into_bytes())
        .collect();
    fs::write(d.path().join("big.txt"), &text).unwrap();
    let changes = Changes {
        entries: vec![PathBuf::from("/big.txt")],
        deleted: vec![],
    };
    let tmp = tempfile::tempdir().unwrap();
    for c in [Compression::Gzip, Compression::Zstd] {
        let mut sizes = Vec::new();
        let mut diff_ids = Vec::new();
        for level in [1, 9] {
            let o = LayerOptions {
                compression: c,
                level,
                reproducible: true,
            };
            let blob = write_layer(d.path(), &changes, &o, tmp.path()).unwrap();
            let got = read_tar(&decompress(&blob.path, c)[..]);
            assert_eq!(got[0].1.data, text);
            sizes.push(blob.size);
            diff_ids.push(blob.diff_id);
        }
        assert!(
            sizes[1] < sizes[0],
            "{c:?}: level 9 smaller than 1: {sizes:?}"
        );
        assert_eq!(
            diff_ids[0], diff_ids[1],
            "the tar does not depend on the level"
        );
    }
}
