//! One case of testdata/conformance: a folder with a `Dockerfile` and optionally
//! - `context/`: the files of the build context (the Dockerfile is written beside them);
//! - `setup`: what git cannot hold, one per line: `symlink TARGET PATH`, `hardlink EXISTING
//!   NEW`, `mode OCTAL PATH`, `owner UID:GID PATH`, `dir PATH`, `fifo PATH`, `tar ARCHIVE
//!   DIR` (DIR's contents as a tar, gzip when ARCHIVE ends in `.gz`, DIR then removed);
//! - `flags`: flags for both builders, one per line (`--build-arg=K=V`, `--target=T`,
//!   `--secret=id=s,src={ctx}/file`; `{ctx}` is the context's path for that builder);
//! - `fails`: both builders must refuse the case (the file says why);
//! - `expect`: current BuildKit's answer where the daemon's BuildKit v0.8 differs
//!   ([`super::expect`]); the daemon does not build such a case.
//!
//! In the Dockerfile `@BASE@` is the busybox image in the test registry and `@HTTP@` the
//! file server's URL (`testdata/conformance/_http`). Every context file gets the mtime
//! [`CONTEXT_MTIME`], so that times copied from the context can be compared.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The mtime of every prepared context file and directory (2020-09-13T12:26:40Z).
pub const CONTEXT_MTIME: i64 = 1_600_000_000;

pub struct Case {
    pub name: String,
    pub dir: PathBuf,
    pub dockerfile: String,
    pub flags: Vec<String>,
    /// Why both must fail, when they must.
    pub fails: Option<String>,
    /// The expected-output file's text, when the daemon is not the oracle.
    pub expect: Option<String>,
}

/// Every case under `root` (folders not starting with `_`), sorted by name, keeping those
/// whose name is in `only` when it is given.
pub fn load_all(root: &Path, only: Option<&[String]>) -> Vec<Case> {
    let mut names: Vec<String> = fs::read_dir(root)
        .expect("testdata/conformance")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('_') && root.join(n).join("Dockerfile").is_file())
        .collect();
    names.sort();
    if let Some(only) = only {
        for o in only {
            assert!(names.contains(o), "no conformance case named {o:?}");
        }
        names.retain(|n| only.contains(n));
    }
    names.iter().map(|n| load(&root.join(n))).collect()
}

fn load(dir: &Path) -> Case {
    let read = |f: &str| fs::read_to_string(dir.join(f)).ok();
    Case {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        dir: dir.to_path_buf(),
        dockerfile: read("Dockerfile").expect("Dockerfile"),
        flags: read("flags")
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect(),
        fails: read("fails"),
        expect: read("expect"),
    }
}

impl Case {
    /// The flags for one builder, `{ctx}` replaced by `ctx`.
    pub fn flags_for(&self, ctx: &str) -> Vec<String> {
        self.flags.iter().map(|f| f.replace("{ctx}", ctx)).collect()
    }

    /// Writes the context (files, set-up, the templated Dockerfile) into `out`.
    pub fn prepare(&self, out: &Path, base: &str, http: &str) -> Result<(), String> {
        let src = self.dir.join("context");
        if src.is_dir() {
            copy_tree(&src, out).map_err(|e| format!("copying the context: {e}"))?;
        }
        let df = self
            .dockerfile
            .replace("@BASE@", base)
            .replace("@HTTP@", http);
        fs::write(out.join("Dockerfile"), df).map_err(|e| e.to_string())?;
        if let Ok(setup) = fs::read_to_string(self.dir.join("setup")) {
            for line in setup.lines().filter(|l| !l.trim().is_empty()) {
                apply(out, line).map_err(|e| format!("setup {line:?}: {e}"))?;
            }
        }
        stamp(out).map_err(|e| format!("setting context times: {e}"))
    }
}

fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    for e in walkdir::WalkDir::new(src).min_depth(1) {
        let e = e?;
        let to = dst.join(e.path().strip_prefix(src).unwrap());
        if e.file_type().is_dir() {
            fs::create_dir_all(&to)?;
        } else if e.file_type().is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(e.path())?, &to)?;
        } else {
            fs::copy(e.path(), &to)?;
        }
    }
    Ok(())
}

/// One `setup` line.
fn apply(ctx: &Path, line: &str) -> std::io::Result<()> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let at = |p: &str| ctx.join(p);
    let parent = |p: &Path| fs::create_dir_all(p.parent().unwrap());
    match w.as_slice() {
        ["symlink", target, path] => {
            parent(&at(path))?;
            std::os::unix::fs::symlink(target, at(path))
        }
        ["hardlink", existing, new] => {
            parent(&at(new))?;
            fs::hard_link(at(existing), at(new))
        }
        ["mode", mode, path] => {
            let m = u32::from_str_radix(mode, 8).map_err(std::io::Error::other)?;
            fs::set_permissions(at(path), fs::Permissions::from_mode(m))
        }
        ["owner", ids, path] => {
            let (u, g) = ids
                .split_once(':')
                .ok_or_else(|| std::io::Error::other("UID:GID"))?;
            let id = |s: &str| s.parse::<u32>().map_err(std::io::Error::other);
            std::os::unix::fs::lchown(at(path), Some(id(u)?), Some(id(g)?))
        }
        ["dir", path] => fs::create_dir_all(at(path)),
        ["fifo", path] => {
            parent(&at(path))?;
            nix::unistd::mkfifo(&at(path), nix::sys::stat::Mode::from_bits_truncate(0o644))
                .map_err(std::io::Error::from)
        }
        ["tar", archive, dir] => {
            stamp(&at(dir))?;
            write_tar(&at(archive), &at(dir))?;
            fs::remove_dir_all(at(dir))
        }
        _ => Err(std::io::Error::other("unknown set-up line")),
    }
}

/// A tar of `dir`'s contents (gzip for `.gz`), entries in name order.
fn write_tar(archive: &Path, dir: &Path) -> std::io::Result<()> {
    let file = fs::File::create(archive)?;
    let sink: Box<dyn std::io::Write> = if archive.to_string_lossy().ends_with(".gz") {
        Box::new(flate2::write::GzEncoder::new(
            file,
            flate2::Compression::fast(),
        ))
    } else {
        Box::new(file)
    };
    let mut tar = tar::Builder::new(sink);
    tar.follow_symlinks(false);
    let mut entries: Vec<_> = walkdir::WalkDir::new(dir)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .collect::<Result<_, _>>()?;
    entries.sort_by(|a, b| a.path().cmp(b.path()));
    for e in entries {
        tar.append_path_with_name(e.path(), e.path().strip_prefix(dir).unwrap())?;
    }
    tar.into_inner()?.flush()
}

/// Sets every entry below `dir` (and `dir`) to [`CONTEXT_MTIME`], links included.
fn stamp(dir: &Path) -> std::io::Result<()> {
    let t = nix::sys::time::TimeSpec::new(CONTEXT_MTIME, 0);
    let mut all: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.map(|e| e.into_path()))
        .collect::<Result<_, _>>()?;
    // Children first, so that setting a directory's time is the last write into it.
    all.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for p in all {
        nix::sys::stat::utimensat(
            None,
            &p,
            &t,
            &t,
            nix::sys::stat::UtimensatFlags::NoFollowSymlink,
        )
        .map_err(std::io::Error::from)?;
    }
    Ok(())
}
