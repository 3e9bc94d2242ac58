//! Cache keys: what decides a step's result. A stage's chain starts from its base (an
//! image's manifest digest, `scratch`, or an earlier stage's last key) and the platform.
//! Only the steps that may change the filesystem (RUN, COPY, ADD, WORKDIR, VOLUME) have a
//! key and move the chain: each key hashes the chain so far, the instruction after
//! expansion and what else the step reads: for RUN the environment it sees (ENV and the
//! ARGs declared so far, proxy variables only when ENV set them), its user, working
//! directory and shell; for COPY/ADD the working directory and the content and metadata of
//! every source (after `.dockerignore`), or the key of the stage it copies from, or the
//! digest of the image. Metadata instructions (LABEL, CMD, ARG ...) only reach a key
//! through what a later step sees, so an ARG no step reads changes nothing. Keys hold no
//! times and no host paths, so two machines building the same inputs get the same keys.

use crate::context::BuildContext;
use image::{Digest, Hasher, Platform};
use std::io::Read;
use std::os::unix::fs::MetadataExt;

/// The key of a step's result.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey(pub Digest);

impl std::fmt::Display for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.hex())
    }
}

/// The running key of a stage: the image so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyChain {
    current: CacheKey,
    platform: String,
}

fn hash(parts: &[&str]) -> CacheKey {
    let mut h = Digest::sha256(b"").hasher();
    for p in parts {
        // Length-prefixed, so no two part lists hash alike.
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    CacheKey(h.finish())
}

impl KeyChain {
    /// A chain starting from `base`: a manifest digest, `scratch`, or a stage's last key.
    pub fn new(base: &str, platform: &Platform) -> KeyChain {
        KeyChain {
            current: hash(&["kaniko-rs cache v1", base, &platform.to_string()]),
            platform: platform.to_string(),
        }
    }

    pub fn current(&self) -> &CacheKey {
        &self.current
    }

    /// The key of the next step: the chain so far, the expanded instruction, its inputs.
    pub fn key(&self, instruction: &dockerfile::Instruction, inputs: &[String]) -> CacheKey {
        let text = serde_json::to_string(instruction).unwrap_or_default();
        let mut parts = vec![self.current.0.as_str(), text.as_str()];
        parts.extend(inputs.iter().map(String::as_str));
        hash(&parts)
    }

    /// The key of a `COPY --link`/`ADD --link` layer by itself (`None` for other steps): the
    /// instruction, its inputs and the platform, not the chain below, since its files do
    /// not depend on the base; a cache may reuse the layer on any base. The chain still
    /// moves on with [`key`](Self::key).
    pub fn link_key(
        &self,
        instruction: &dockerfile::Instruction,
        inputs: &[String],
    ) -> Option<CacheKey> {
        use dockerfile::Instruction::{Add, Copy};
        let (Copy(c) | Add(c)) = instruction else {
            return None;
        };
        let text = serde_json::to_string(instruction).unwrap_or_default();
        let mut parts = vec!["kaniko-rs link v1", self.platform.as_str(), text.as_str()];
        parts.extend(inputs.iter().map(String::as_str));
        // With --chmod a --link copy is an ordinary one (BuildKit's rule): it sees the base.
        (c.link && c.chmod.is_none()).then(|| hash(&parts))
    }

    /// Moves the chain past a step.
    pub fn advance(&mut self, key: CacheKey) {
        self.current = key;
    }
}

/// The part of a RUN's environment `run_env` that goes into its key: everything but proxy
/// variables ([`dockerfile::is_proxy_var`]: a build passes them to RUN, but they never
/// decide a result, as BuildKit leaves them out of its keys too) that did not come from the
/// image's ENV (`image_env`).
pub fn keyed_env(
    run_env: &[(String, String)],
    image_env: &[(String, String)],
) -> Vec<(String, String)> {
    run_env
        .iter()
        .filter(|(k, v)| {
            !dockerfile::is_proxy_var(k) || image_env.iter().any(|(ek, ev)| ek == k && ev == v)
        })
        .cloned()
        .collect()
}

/// What a RUN reads besides its text: the environment it sees, user, directory, shell.
pub fn run_inputs(
    env: &[(String, String)],
    user: &str,
    workdir: &str,
    shell: &[String],
) -> Vec<String> {
    let mut out: Vec<String> = env.iter().map(|(k, v)| format!("env {k}={v}")).collect();
    out.push(format!("user {user}"));
    out.push(format!("workdir {workdir}"));
    out.push(format!("shell {}", shell.join("\u{0}")));
    out
}

/// The content and metadata of the sources `rels` of `tree` (directories walked, excluded
/// paths left out): names, types, modes, link targets and file contents; owners and times
/// only when `with_times` (a step that keeps them). Each entry is framed: its
/// length-prefixed description, then the length-prefixed digest of its content (or its link
/// target), so no two different trees give the same stream.
pub fn sources_digest(
    tree: &BuildContext,
    rels: &[String],
    with_times: bool,
) -> std::io::Result<Digest> {
    let mut h = Digest::sha256(b"").hasher();
    let mut buf = vec![0u8; 1 << 16];
    for rel in rels {
        let top = tree
            .host_path(rel, true)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        for entry in walkdir::WalkDir::new(&top).sort_by_file_name() {
            let entry = entry?;
            let name = entry
                .path()
                .strip_prefix(tree.root())
                .unwrap_or(entry.path());
            let name = name.to_string_lossy();
            if !name.is_empty() && tree.excluded(&name) {
                continue;
            }
            let m = entry.path().symlink_metadata()?;
            let below = entry.path().strip_prefix(&top).unwrap_or(entry.path());
            let mut line = format!("{rel}|{}|{:o}", below.display(), m.mode());
            if with_times {
                line.push_str(&format!("|{}:{}|{}", m.uid(), m.gid(), m.mtime()));
            }
            framed(&mut h, line.as_bytes());
            if m.file_type().is_symlink() {
                let target = std::fs::read_link(entry.path())?;
                framed(&mut h, target.as_os_str().as_encoded_bytes());
            } else if m.is_file() {
                let mut content = Digest::sha256(b"").hasher();
                hash_file(&mut content, entry.path(), &mut buf)?;
                framed(&mut h, content.finish().hex().as_bytes());
            } else {
                framed(&mut h, b"");
            }
        }
    }
    Ok(h.finish())
}

/// `bytes`, preceded by their length.
fn framed(h: &mut Hasher, bytes: &[u8]) {
    h.update(&(bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn hash_file(h: &mut Hasher, p: &std::path::Path, buf: &mut [u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::open(p)?;
    loop {
        let n = f.read(buf)?;
        if n == 0 {
            return Ok(());
        }
        h.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockerfile::{CommandLine, Instruction};

    fn platform() -> Platform {
        Platform::parse("linux/amd64").unwrap()
    }

    #[test]
    fn keys_follow_what_a_step_reads() {
        let chain = KeyChain::new("sha256:base", &platform());
        let run = Instruction::Run(dockerfile::Run {
            command: CommandLine::Shell("make".into()),
            heredocs: vec![],
            mounts: vec![],
            network: None,
            security: None,
        });
        let env = |v: &str| vec![("A".to_string(), v.to_string())];
        let sh = vec!["/bin/sh".to_string(), "-c".to_string()];
        let k1 = chain.key(&run, &run_inputs(&env("1"), "", "/", &sh));
        assert_eq!(k1, chain.key(&run, &run_inputs(&env("1"), "", "/", &sh)));
        assert_ne!(k1, chain.key(&run, &run_inputs(&env("2"), "", "/", &sh)));
        assert_ne!(k1, chain.key(&run, &run_inputs(&env("1"), "app", "/", &sh)));
        let other_base = KeyChain::new("sha256:other", &platform());
        assert_ne!(
            k1,
            other_base.key(&run, &run_inputs(&env("1"), "", "/", &sh))
        );
        let mut next = chain.clone();
        next.advance(k1.clone());
        assert_ne!(next.current(), chain.current());
    }

    #[test]
    fn link_keys_do_not_depend_on_the_base() {
        let copy = |link| {
            Instruction::Copy(dockerfile::Copy {
                sources: vec!["app".into()],
                dest: "/app".into(),
                link,
                ..Default::default()
            })
        };
        let (a, b) = (
            KeyChain::new("sha256:a", &platform()),
            KeyChain::new("sha256:b", &platform()),
        );
        let inputs = vec!["sources x".to_string()];
        assert_eq!(
            a.link_key(&copy(true), &inputs),
            b.link_key(&copy(true), &inputs)
        );
        assert!(a.link_key(&copy(true), &inputs).is_some());
        assert_ne!(
            a.link_key(&copy(true), &inputs),
            a.link_key(&copy(true), &[])
        );
        assert_eq!(a.link_key(&copy(false), &inputs), None);
        // The chain position still depends on the base.
        assert_ne!(a.key(&copy(true), &inputs), b.key(&copy(true), &inputs));
    }

    #[test]
    fn proxies_count_only_from_env() {
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        let run = vec![
            pair("http_proxy", "p:1"),
            pair("A", "1"),
            pair("NO_PROXY", "x"),
        ];
        assert_eq!(keyed_env(&run, &[]), vec![pair("A", "1")]);
        let env = vec![pair("NO_PROXY", "x")];
        assert_eq!(
            keyed_env(&run, &env),
            vec![pair("A", "1"), pair("NO_PROXY", "x")]
        );
    }

    /// One file whose content looks like the next entry's description and content, and
    /// the two files that description names: the same bytes unframed, different digests.
    #[test]
    fn source_digests_frame_names_and_contents() {
        let one = tempfile::tempdir().unwrap();
        let two = tempfile::tempdir().unwrap();
        for d in [one.path(), two.path()] {
            std::fs::create_dir_all(d.join("dir")).unwrap();
        }
        std::fs::write(one.path().join("dir/a"), "dir|b|100644hello").unwrap();
        std::fs::write(two.path().join("dir/a"), "").unwrap();
        std::fs::write(two.path().join("dir/b"), "hello").unwrap();
        let rels = vec!["dir".to_string()];
        let digest = |d: &std::path::Path| {
            sources_digest(&BuildContext::open(d, None).unwrap(), &rels, false).unwrap()
        };
        assert_ne!(digest(one.path()), digest(two.path()));
    }

    #[test]
    fn source_digests_see_content_not_times() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("dir")).unwrap();
        std::fs::write(d.path().join("dir/a"), "one").unwrap();
        std::fs::write(d.path().join(".dockerignore"), "dir/skip\n").unwrap();
        let ctx = BuildContext::open(d.path(), None).unwrap();
        let rels = vec!["dir".to_string()];
        let first = sources_digest(&ctx, &rels, false).unwrap();
        // An excluded file and a new mtime change nothing.
        std::fs::write(d.path().join("dir/skip"), "x").unwrap();
        let t = nix::sys::time::TimeSpec::new(1_000_000, 0);
        nix::sys::stat::utimensat(
            None,
            &d.path().join("dir/a"),
            &t,
            &t,
            nix::sys::stat::UtimensatFlags::NoFollowSymlink,
        )
        .unwrap();
        assert_eq!(sources_digest(&ctx, &rels, false).unwrap(), first);
        assert_ne!(sources_digest(&ctx, &rels, true).unwrap(), first);
        std::fs::write(d.path().join("dir/a"), "two").unwrap();
        assert_ne!(sources_digest(&ctx, &rels, false).unwrap(), first);
    }
}
