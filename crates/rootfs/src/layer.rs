//! Layer blobs: the changed paths (with their parent directories) and whiteouts for deleted
//! ones, written as tar → compress → file in one streaming pass that hashes both the tar
//! (diff_id) and the compressed bytes (digest).

use crate::resolve::host_path;
use crate::{Changes, Compression, Error};
use image::{Digest, Sha256Writer};
use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct LayerOptions {
    pub compression: Compression,
    /// -1: the algorithm's default.
    pub level: i32,
    /// Every mtime set to the Unix epoch.
    pub reproducible: bool,
}

#[derive(Clone, Debug)]
pub struct LayerBlob {
    pub path: PathBuf,
    pub digest: String,
    pub diff_id: String,
    pub size: u64,
    pub compression: Compression,
}

/// gzip's level when `--compression-level` is -1: zlib's own default.
pub const DEFAULT_GZIP_LEVEL: u32 = 6;

/// Writes the layer for `changes` into a new file in `tmp_dir`.
pub fn write_layer(
    root: &Path,
    changes: &Changes,
    opts: &LayerOptions,
    tmp_dir: &Path,
) -> Result<LayerBlob, Error> {
    let file = tempfile::Builder::new()
        .prefix("layer-")
        .tempfile_in(tmp_dir)
        .map_err(Error::io("creating a layer file in", tmp_dir))?;
    let (file, path) = file
        .keep()
        .map_err(|e| Error::io("keeping", tmp_dir)(e.error))?;
    let out = Sha256Writer::new(BufWriter::with_capacity(1 << 20, file));
    let io_err = Error::io("writing", &path);
    let (diff_id, out) = match opts.compression {
        Compression::Gzip => {
            let level = if opts.level < 0 {
                DEFAULT_GZIP_LEVEL
            } else {
                opts.level.min(9) as u32
            };
            let enc = crate::ParallelGzWriter::new(out, level);
            let (enc, diff) = write_tar(root, changes, opts, enc)?;
            (diff, enc.finish())
        }
        Compression::Zstd => {
            let level = if opts.level < 0 { 3 } else { opts.level };
            let enc = zstd::stream::write::Encoder::new(out, level)
                .map_err(Error::io("compressing", &path))?;
            let (enc, diff) = write_tar(root, changes, opts, enc)?;
            (diff, enc.finish())
        }
        Compression::None => {
            let (w, diff) = write_tar(root, changes, opts, out)?;
            (diff, Ok(w))
        }
    };
    let (buf, digest, size) = out.map_err(io_err)?.finish();
    buf.into_inner()
        .map_err(|e| Error::io("writing", &path)(e.into_error()))?;
    Ok(LayerBlob {
        path,
        digest: digest.to_string(),
        diff_id: diff_id.to_string(),
        size,
        compression: opts.compression,
    })
}

/// Writes the tar into `w`; returns `w` and the tar's digest.
fn write_tar<W: Write>(
    root: &Path,
    changes: &Changes,
    opts: &LayerOptions,
    w: W,
) -> Result<(W, Digest), Error> {
    let mut tar = tar::Builder::new(Sha256Writer::new(w));
    tar.follow_symlinks(false);
    let mut paths: BTreeSet<PathBuf> = BTreeSet::new();
    for p in &changes.entries {
        for a in p.ancestors() {
            if a != Path::new("/") {
                paths.insert(a.to_path_buf());
            }
        }
    }
    let mut whiteouts: BTreeSet<PathBuf> = BTreeSet::new();
    for d in &changes.deleted {
        let name = d.file_name().map(|n| n.as_bytes()).unwrap_or_default();
        let mut wh = b".wh.".to_vec();
        wh.extend_from_slice(name);
        let parent = d.parent().unwrap_or(Path::new("/"));
        whiteouts.insert(parent.join(std::ffi::OsStr::from_bytes(&wh)));
        for a in parent.ancestors() {
            if a != Path::new("/") && fs::symlink_metadata(host_path(root, a)).is_ok() {
                paths.insert(a.to_path_buf());
            }
        }
    }
    let mut links: HashMap<(u64, u64), PathBuf> = HashMap::new();
    for p in &paths {
        append(&mut tar, root, p, opts, &mut links)?;
    }
    for wh in &whiteouts {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(0);
        h.set_mode(0o644);
        h.set_mtime(0);
        tar.append_data(&mut h, rel(wh), io::empty())
            .map_err(Error::Tar)?;
    }
    let sw = tar.into_inner().map_err(Error::Tar)?;
    let (w, digest, _) = sw.finish();
    Ok((w, digest))
}

fn rel(p: &Path) -> &Path {
    p.strip_prefix("/").unwrap_or(p)
}

fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    root: &Path,
    p: &Path,
    opts: &LayerOptions,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<(), Error> {
    let host = host_path(root, p);
    let Ok(m) = fs::symlink_metadata(&host) else {
        return Ok(());
    };
    let ft = m.file_type();
    let mut h = tar::Header::new_gnu();
    h.set_mode(m.mode() & 0o7777);
    h.set_uid(u64::from(m.uid()));
    h.set_gid(u64::from(m.gid()));
    h.set_mtime(if opts.reproducible {
        0
    } else {
        m.mtime().max(0) as u64
    });
    h.set_size(0);
    let name = rel(p);
    let err = |e| Error::io("adding to layer", &host)(e);
    if ft.is_dir() {
        h.set_entry_type(tar::EntryType::Directory);
        tar.append_data(&mut h, name, io::empty()).map_err(err)
    } else if ft.is_symlink() {
        h.set_entry_type(tar::EntryType::Symlink);
        let target = fs::read_link(&host).map_err(err)?;
        tar.append_link(&mut h, name, target).map_err(err)
    } else if ft.is_file() {
        if m.nlink() > 1 {
            if let Some(first) = links.get(&(m.dev(), m.ino())) {
                h.set_entry_type(tar::EntryType::Link);
                return tar.append_link(&mut h, name, rel(first)).map_err(err);
            }
            links.insert((m.dev(), m.ino()), p.to_path_buf());
        }
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(m.size());
        let f = fs::File::open(&host).map_err(err)?;
        tar.append_data(&mut h, name, io::BufReader::with_capacity(1 << 20, f))
            .map_err(err)
    } else {
        let kind = if ft.is_char_device() {
            tar::EntryType::Char
        } else if ft.is_block_device() {
            tar::EntryType::Block
        } else if ft.is_fifo() {
            tar::EntryType::Fifo
        } else {
            return Ok(()); // sockets are not layer content
        };
        h.set_entry_type(kind);
        let rdev = m.rdev();
        h.set_device_major(nix::sys::stat::major(rdev) as u32)
            .map_err(err)?;
        h.set_device_minor(nix::sys::stat::minor(rdev) as u32)
            .map_err(err)?;
        tar.append_data(&mut h, name, io::empty()).map_err(err)
    }
}
