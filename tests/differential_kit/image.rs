//! A built image as the suite compares it: the file tree its layers make (whiteouts and
//! opaque directories applied, hard links kept as shared inodes) and its config, read from
//! a docker-archive (`docker save`, or the executor's `--tar-path`).

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Char,
    Block,
    Fifo,
}

/// One path of the tree.
#[derive(Clone, Debug)]
pub struct Node {
    pub kind: Kind,
    /// Permission bits with setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    /// sha256 of a file's content.
    pub digest: String,
    /// A short text file's content, to show in a difference.
    pub text: Option<String>,
    pub link: String,
    pub mtime: u64,
    /// Paths sharing an inode (hard links) share this number.
    pub inode: usize,
}

pub struct Image {
    /// Paths without a leading `/` (the root itself is left out).
    pub files: BTreeMap<String, Node>,
    /// The whole config (`config`, `author`, `architecture`, …).
    pub config: serde_json::Value,
}

/// Reads a docker-archive file.
pub fn read_archive(path: &Path) -> Result<Image, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut members: HashMap<String, Vec<u8>> = HashMap::new();
    let mut outer = tar::Archive::new(f);
    for e in outer.entries().map_err(|e| e.to_string())? {
        let mut e = e.map_err(|e| e.to_string())?;
        let name = e
            .path()
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).map_err(|e| e.to_string())?;
        members.insert(name.trim_start_matches("./").to_string(), data);
    }
    let get = |n: &str| {
        members
            .get(n)
            .ok_or_else(|| format!("{n} missing from the archive"))
    };
    let manifest: serde_json::Value =
        serde_json::from_slice(get("manifest.json")?).map_err(|e| e.to_string())?;
    let m = &manifest[0];
    let config_name = m["Config"].as_str().ok_or("manifest without Config")?;
    let config = serde_json::from_slice(get(config_name)?).map_err(|e| e.to_string())?;
    let mut tree = Tree::default();
    for layer in m["Layers"].as_array().ok_or("manifest without Layers")? {
        let name = layer.as_str().ok_or("layer name")?;
        tree.apply(get(name)?)
            .map_err(|e| format!("layer {name}: {e}"))?;
    }
    Ok(Image {
        files: tree.files,
        config,
    })
}

#[derive(Default)]
struct Tree {
    files: BTreeMap<String, Node>,
    next_inode: usize,
}

fn clean(p: &str) -> String {
    p.trim_start_matches("./")
        .trim_start_matches('/')
        .trim_end_matches('/')
        .to_string()
}

impl Tree {
    /// Removes `path` and everything below it.
    fn remove(&mut self, path: &str) {
        self.files.remove(path);
        let prefix = format!("{path}/");
        self.files.retain(|k, _| !k.starts_with(&prefix));
    }

    fn apply(&mut self, blob: &[u8]) -> std::io::Result<()> {
        let reader: Box<dyn Read + '_> = if blob.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::read::MultiGzDecoder::new(blob))
        } else {
            Box::new(blob)
        };
        let mut added: std::collections::HashSet<String> = Default::default();
        let mut tar = tar::Archive::new(reader);
        for e in tar.entries()? {
            let mut e = e?;
            let path = clean(&e.path()?.to_string_lossy());
            if path.is_empty() {
                continue;
            }
            let (dir, base) = match path.rsplit_once('/') {
                Some((d, b)) => (d.to_string(), b.to_string()),
                None => (String::new(), path.clone()),
            };
            if base == ".wh..wh..opq" {
                let prefix = if dir.is_empty() {
                    String::new()
                } else {
                    format!("{dir}/")
                };
                self.files
                    .retain(|k, _| !k.starts_with(&prefix) || added.contains(k) || *k == dir);
                continue;
            }
            if let Some(gone) = base.strip_prefix(".wh.") {
                let gone = if dir.is_empty() {
                    gone.to_string()
                } else {
                    format!("{dir}/{gone}")
                };
                self.remove(&gone);
                continue;
            }
            let h = e.header().clone();
            let ty = h.entry_type();
            let node = if ty.is_hard_link() {
                let target = clean(&e.link_name()?.unwrap_or_default().to_string_lossy());
                match self.files.get(&target) {
                    Some(t) => t.clone(),
                    None => {
                        return Err(std::io::Error::other(format!(
                            "{path}: link to missing {target}"
                        )))
                    }
                }
            } else {
                let kind = match ty {
                    t if t.is_dir() => Kind::Dir,
                    t if t.is_symlink() => Kind::Symlink,
                    t if t.is_character_special() => Kind::Char,
                    t if t.is_block_special() => Kind::Block,
                    t if t.is_fifo() => Kind::Fifo,
                    _ => Kind::File,
                };
                let mut digest = String::new();
                let mut size = 0;
                let mut text = None;
                if kind == Kind::File {
                    let mut data = Vec::new();
                    e.read_to_end(&mut data)?;
                    size = data.len() as u64;
                    digest = hex::encode(Sha256::digest(&data));
                    text = String::from_utf8(data).ok().filter(|t| t.len() <= 256);
                }
                self.next_inode += 1;
                Node {
                    kind,
                    mode: h.mode()? & 0o7777,
                    uid: h.uid()?,
                    gid: h.gid()?,
                    size,
                    digest,
                    text,
                    link: e
                        .link_name()?
                        .map(|l| l.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    mtime: h.mtime()?,
                    inode: self.next_inode,
                }
            };
            let keep_children = node.kind == Kind::Dir
                && self.files.get(&path).is_some_and(|n| n.kind == Kind::Dir);
            if !keep_children {
                self.remove(&path);
            }
            added.insert(path.clone());
            self.files.insert(path, node);
        }
        Ok(())
    }
}
