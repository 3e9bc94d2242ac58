//! COPY and ADD: Docker's rules for sources (wildcards, directories copied by content),
//! destinations (trailing slash, existing directories), `--chown`, `--chmod`, ADD's archive
//! extraction and URL download. Returns the container paths it wrote, for the snapshot.

use super::run::host_path;
use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("When using COPY with more than one source file, the destination must be a directory and end with a /")]
    MultiNeedsDir,
    #[error("copying {0} to {1}: {2}")]
    Io(String, String, io::Error),
    #[error("invalid --chmod value {0:?}: want an octal mode such as 0755")]
    Chmod(String),
}

/// What to copy and how.
pub struct CopySpec<'a> {
    /// Host directory the sources are relative to (the context, or another stage's root).
    pub src_root: &'a Path,
    /// Context-relative source paths, already resolved (wildcards expanded, ignore applied).
    pub sources: Vec<String>,
    /// Inline files from heredocs: (name, content).
    pub inline: Vec<(String, Vec<u8>)>,
    /// The destination as written, after expansion (relative to `workdir` when not absolute).
    pub dest: &'a str,
    pub workdir: &'a str,
    pub owner: Option<(u32, u32)>,
    pub mode: Option<u32>,
    /// Source count as written (a single wildcard source counts as many when it matched many).
    pub many: bool,
    /// ADD: extract local tar archives.
    pub extract_archives: bool,
    /// Source-root-relative paths to leave out when copying a directory (`.dockerignore`).
    pub exclude: Option<&'a dyn Fn(&str) -> bool>,
}

pub fn parse_chmod(s: &str) -> Result<u32, CopyError> {
    u32::from_str_radix(s, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| CopyError::Chmod(s.into()))
}

/// The absolute destination path inside the container.
pub fn absolute_dest(dest: &str, workdir: &str) -> String {
    if dest.starts_with('/') {
        dest.to_string()
    } else {
        let wd = if workdir.is_empty() { "/" } else { workdir };
        format!("{}/{}", wd.trim_end_matches('/'), dest)
    }
}

/// Performs the copy into `root`; returns the container paths written (top-level targets).
pub fn copy(root: &Path, spec: &CopySpec<'_>) -> Result<Vec<String>, CopyError> {
    let dest = absolute_dest(spec.dest, spec.workdir);
    let dest_is_dir_syntax = dest.ends_with('/') || spec.dest == "." || spec.dest.ends_with("/.");
    let count = spec.sources.len() + spec.inline.len();
    if (spec.many || count > 1) && !dest_is_dir_syntax && !host_path(root, &dest).is_dir() {
        return Err(CopyError::MultiNeedsDir);
    }
    let mut written = Vec::new();
    let dest_trim = dest.trim_end_matches('/').to_string();
    let dest_trim = if dest_trim.is_empty() {
        "/".to_string()
    } else {
        dest_trim
    };
    for src in &spec.sources {
        let host_src = if src.is_empty() {
            spec.src_root.to_path_buf()
        } else {
            spec.src_root.join(src)
        };
        let meta = fs::symlink_metadata(&host_src).map_err(|e| io_err(src, &dest, e))?;
        if meta.is_dir() {
            mkdir_all(root, &dest_trim, spec.owner)?;
            copy_tree(&host_src, &host_path(root, &dest_trim), spec)
                .map_err(|e| io_err(src, &dest, e))?;
            written.push(dest_trim.clone());
            continue;
        }
        if spec.extract_archives && meta.is_file() && is_archive(&host_src) {
            mkdir_all(root, &dest_trim, spec.owner)?;
            extract_archive(&host_src, &host_path(root, &dest_trim))
                .map_err(|e| io_err(src, &dest, e))?;
            written.push(dest_trim.clone());
            continue;
        }
        let name = Path::new(src)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = file_target(root, &dest, &dest_trim, dest_is_dir_syntax, &name);
        if let Some(parent) = Path::new(&target).parent() {
            mkdir_all(root, &parent.to_string_lossy(), None)?;
        }
        copy_entry(&host_src, &host_path(root, &target), &meta, spec)
            .map_err(|e| io_err(src, &target, e))?;
        written.push(target);
    }
    for (name, content) in &spec.inline {
        let target = file_target(root, &dest, &dest_trim, dest_is_dir_syntax, name);
        if let Some(parent) = Path::new(&target).parent() {
            mkdir_all(root, &parent.to_string_lossy(), None)?;
        }
        let host = host_path(root, &target);
        write_file(&host, content, spec.mode.unwrap_or(0o644), spec.owner)
            .map_err(|e| io_err(name, &target, e))?;
        written.push(target);
    }
    Ok(written)
}

/// Writes a downloaded (ADD URL) or generated file with owner and mode.
pub fn write_file(
    host: &Path,
    content: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> io::Result<()> {
    remove_non_dir(host)?;
    fs::write(host, content)?;
    fs::set_permissions(host, fs::Permissions::from_mode(mode))?;
    let (uid, gid) = owner.unwrap_or((0, 0));
    std::os::unix::fs::lchown(host, Some(uid), Some(gid))
}

fn file_target(root: &Path, dest: &str, dest_trim: &str, dir_syntax: bool, name: &str) -> String {
    if dir_syntax || host_path(root, dest).is_dir() {
        format!("{}/{}", dest_trim.trim_end_matches('/'), name)
    } else {
        dest.to_string()
    }
}

fn io_err(src: &str, dest: &str, e: io::Error) -> CopyError {
    CopyError::Io(src.to_string(), dest.to_string(), e)
}

/// Creates a container directory and its parents (root-owned, 0755), the last one owned by `owner`.
pub fn mkdir_all(root: &Path, dir: &str, owner: Option<(u32, u32)>) -> Result<(), CopyError> {
    let host = host_path(root, dir);
    if host.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(&host).map_err(|e| io_err(dir, dir, e))?;
    if let Some((u, g)) = owner {
        std::os::unix::fs::lchown(&host, Some(u), Some(g)).map_err(|e| io_err(dir, dir, e))?;
    }
    Ok(())
}

fn remove_non_dir(p: &Path) -> io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if !m.is_dir() => fs::remove_file(p),
        _ => Ok(()),
    }
}

fn copy_tree(src: &Path, dst: &Path, spec: &CopySpec<'_>) -> io::Result<()> {
    for entry in walkdir::WalkDir::new(src).min_depth(1).sort_by_file_name() {
        let entry = entry.map_err(io::Error::other)?;
        let rel = entry.path().strip_prefix(src).map_err(io::Error::other)?;
        if let (Some(exclude), Ok(ctx_rel)) =
            (spec.exclude, entry.path().strip_prefix(spec.src_root))
        {
            if exclude(&ctx_rel.to_string_lossy()) {
                continue;
            }
        }
        let meta = entry.path().symlink_metadata()?;
        copy_entry(entry.path(), &dst.join(rel), &meta, spec)?;
    }
    Ok(())
}

fn copy_entry(src: &Path, dst: &Path, meta: &fs::Metadata, spec: &CopySpec<'_>) -> io::Result<()> {
    let ft = meta.file_type();
    if ft.is_dir() {
        match fs::symlink_metadata(dst) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                fs::remove_file(dst)?;
                fs::create_dir(dst)?;
            }
            Err(_) => fs::create_dir(dst)?,
        }
    } else if ft.is_symlink() {
        remove_non_dir(dst)?;
        std::os::unix::fs::symlink(fs::read_link(src)?, dst)?;
    } else if ft.is_file() {
        remove_non_dir(dst)?;
        fs::copy(src, dst)?;
    } else {
        return Ok(()); // sockets, devices and fifos in a context are skipped, as Docker does
    }
    let (uid, gid) = spec.owner.unwrap_or((0, 0));
    std::os::unix::fs::lchown(dst, Some(uid), Some(gid))?;
    if !ft.is_symlink() {
        let mode = spec.mode.unwrap_or(meta.mode() & 0o7777);
        fs::set_permissions(dst, fs::Permissions::from_mode(mode))?;
    }
    let times = [
        nix::sys::time::TimeSpec::new(meta.atime(), meta.atime_nsec()),
        nix::sys::time::TimeSpec::new(meta.mtime(), meta.mtime_nsec()),
    ];
    nix::sys::stat::utimensat(
        None,
        dst,
        &times[0],
        &times[1],
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .map_err(io::Error::from)
}

/// Whether a file is a tar archive ADD extracts (plain, gzip, zstd).
fn is_archive(p: &Path) -> bool {
    let Ok(f) = fs::File::open(p) else {
        return false;
    };
    let Ok(mut r) = rootfs::decompressor(io::BufReader::new(f)) else {
        return false;
    };
    let mut block = [0u8; 512];
    if io::Read::read_exact(&mut r, &mut block).is_err() {
        return false;
    }
    &block[257..262] == b"ustar" || tar_checksum_ok(&block)
}

fn tar_checksum_ok(block: &[u8; 512]) -> bool {
    let stored = std::str::from_utf8(&block[148..156])
        .ok()
        .map(|s| s.trim_matches(|c: char| c == '\0' || c == ' '));
    let Some(Ok(stored)) = stored.map(|s| u32::from_str_radix(s, 8)) else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    sum == stored && block[0] != 0
}

fn extract_archive(src: &Path, dst: &Path) -> io::Result<()> {
    let f = fs::File::open(src)?;
    let r = rootfs::decompressor(io::BufReader::with_capacity(1 << 20, f))?;
    let ignore = rootfs::IgnoreList::new(Vec::<PathBuf>::new());
    rootfs::extract_layer(r, dst, &ignore, None).map_err(io::Error::other)?;
    Ok(())
}
