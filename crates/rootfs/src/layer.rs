//! Layer blobs: the changed paths (with their parent directories) and whiteouts for deleted
//! ones, written as tar → compress → file in one streaming pass that hashes both the tar
//! (diff_id) and the compressed bytes (digest).

use crate::fsops::xattrs;
use crate::resolve::host_path;
use crate::tarwriter::{EntryMeta, TarWriter};
use crate::{Changes, Compression, Error};
use image::{Digest, Sha256Writer};
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs;
use std::io::{BufWriter, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
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
    pub digest: Digest,
    pub diff_id: Digest,
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
    write_layer_to(root, changes, opts, tmp_dir, None)
}

/// [`write_layer`], also handing every byte of the blob to `tee` as it is written (an
/// upload in progress). The first refusal of `tee` ends the tee; the layer goes on.
pub fn write_layer_to(
    root: &Path,
    changes: &Changes,
    opts: &LayerOptions,
    tmp_dir: &Path,
    tee: Option<&mut (dyn Write + Send)>,
) -> Result<LayerBlob, Error> {
    let file = tempfile::Builder::new()
        .prefix("layer-")
        .tempfile_in(tmp_dir)
        .map_err(Error::io("creating a layer file in", tmp_dir))?;
    let (file, path) = file
        .keep()
        .map_err(|e| Error::io("keeping", tmp_dir)(e.error))?;
    let out = Sha256Writer::new(Tee {
        inner: BufWriter::with_capacity(1 << 20, file),
        tee,
    });
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
            let mut enc = zstd::stream::write::Encoder::new(out, level)
                .map_err(Error::io("compressing", &path))?;
            // Worker threads on all cores; the output does not depend on their number.
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
            enc.multithread(threads)
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
    buf.inner
        .into_inner()
        .map_err(|e| Error::io("writing", &path)(e.into_error()))?;
    Ok(LayerBlob {
        path,
        digest,
        diff_id,
        size,
        compression: opts.compression,
    })
}

/// A writer that also hands what it writes to `tee`, until `tee` refuses.
struct Tee<'a, W> {
    inner: W,
    tee: Option<&'a mut (dyn Write + Send)>,
}

impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(t) = &mut self.tee {
            if let Err(e) = t.write_all(&buf[..n]) {
                tracing::debug!("layer upload stopped: {e}");
                self.tee = None;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// One tar entry to write: a path of the root, or a whiteout.
enum Item {
    Path,
    Whiteout,
}

/// Writes the tar into `w`; returns `w` and the tar's digest. Entries are sorted by path:
/// changed paths with their parent directories, and whiteouts for deleted paths.
fn write_tar<W: Write>(
    root: &Path,
    changes: &Changes,
    opts: &LayerOptions,
    w: W,
) -> Result<(W, Digest), Error> {
    let mut tar = TarWriter::new(Sha256Writer::new(w));
    let mut items: BTreeMap<PathBuf, Item> = BTreeMap::new();
    for p in &changes.entries {
        for a in p.ancestors() {
            if a == Path::new("/") || items.contains_key(a) {
                break;
            }
            items.insert(a.to_path_buf(), Item::Path);
        }
    }
    for d in &changes.deleted {
        let (Some(name), Some(parent)) = (d.file_name(), d.parent()) else {
            continue;
        };
        let mut wh = OsString::from(".wh.");
        wh.push(name);
        items.insert(parent.join(wh), Item::Whiteout);
        for a in parent.ancestors() {
            if a == Path::new("/") || items.contains_key(a) {
                break;
            }
            if fs::symlink_metadata(host_path(root, a)).is_ok() {
                items.insert(a.to_path_buf(), Item::Path);
            }
        }
    }
    let mut links: HashMap<(u64, u64), Vec<u8>> = HashMap::new();
    for (p, item) in &items {
        match item {
            Item::Path => append(&mut tar, root, p, opts, &mut links)?,
            Item::Whiteout => {
                let m = EntryMeta {
                    name: rel(p).to_vec(),
                    kind: Some(tar::EntryType::Regular),
                    mode: 0o644,
                    ..Default::default()
                };
                tar.append(&m, None)
                    .map_err(Error::io("adding to layer", p.as_path()))?;
            }
        }
    }
    let sw = tar.finish().map_err(Error::Tar)?;
    let (w, digest, _) = sw.finish();
    Ok((w, digest))
}

/// A container path as a tar name (no leading `/`).
fn rel(p: &Path) -> &[u8] {
    let b = p.as_os_str().as_bytes();
    b.strip_prefix(b"/").unwrap_or(b)
}

fn append<W: Write>(
    tar: &mut TarWriter<W>,
    root: &Path,
    p: &Path,
    opts: &LayerOptions,
    links: &mut HashMap<(u64, u64), Vec<u8>>,
) -> Result<(), Error> {
    let host = host_path(root, p);
    let Ok(m) = fs::symlink_metadata(&host) else {
        return Ok(()); // gone since the snapshot
    };
    let err = Error::io("adding to layer", &host);
    let ft = m.file_type();
    let mut e = EntryMeta {
        name: rel(p).to_vec(),
        mode: m.mode() & 0o7777,
        uid: u64::from(m.uid()),
        gid: u64::from(m.gid()),
        mtime: if opts.reproducible {
            0
        } else {
            m.mtime().max(0) as u64
        },
        ..Default::default()
    };
    if !ft.is_symlink() {
        match xattrs(&host) {
            Ok(x) => e.xattrs = x,
            Err(err) => tracing::debug!("reading xattrs of {}: {err}", host.display()),
        }
    }
    if ft.is_dir() {
        e.kind = Some(tar::EntryType::Directory);
        e.name.push(b'/');
        tar.append(&e, None).map_err(err)?;
    } else if ft.is_symlink() {
        e.kind = Some(tar::EntryType::Symlink);
        e.link = fs::read_link(&host)
            .map_err(Error::io("reading link", &host))?
            .into_os_string()
            .into_vec();
        tar.append(&e, None).map_err(err)?;
    } else if ft.is_file() {
        if m.nlink() > 1 {
            if let Some(first) = links.get(&(m.dev(), m.ino())) {
                e.kind = Some(tar::EntryType::Link);
                e.link = first.clone();
                e.xattrs.clear();
                return tar.append(&e, None).map(|_| ()).map_err(err);
            }
            links.insert((m.dev(), m.ino()), e.name.clone());
        }
        e.kind = Some(tar::EntryType::Regular);
        e.size = m.size();
        let mut f = fs::File::open(&host).map_err(Error::io("opening", &host))?;
        if tar.append(&e, Some(&mut f)).map_err(err)? {
            tracing::warn!("{} shrank while it was read; zero-padded", host.display());
        }
    } else {
        e.kind = Some(if ft.is_char_device() {
            tar::EntryType::Char
        } else if ft.is_block_device() {
            tar::EntryType::Block
        } else if ft.is_fifo() {
            tar::EntryType::Fifo
        } else {
            return Ok(()); // sockets are not layer content
        });
        let rdev = m.rdev();
        e.dev = (
            nix::sys::stat::major(rdev) as u32,
            nix::sys::stat::minor(rdev) as u32,
        );
        tar.append(&e, None).map_err(err)?;
    }
    Ok(())
}
