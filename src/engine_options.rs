//! The engine's options from the command line's: the platform, build args, secrets read
//! once, the paths a build must not touch, and what remote contexts fetch with.

use crate::caching;
use crate::cli::{ContextSource, Options, Secret, SecretSource, SnapshotMode};
use crate::startup::Startup;
use anyhow::{anyhow, bail, Context as _};
use engine::BuildOptions;
use image::Platform;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `--custom-platform`, else this machine's.
pub(crate) fn target_platform(custom: Option<&str>) -> anyhow::Result<Platform> {
    Ok(match custom {
        Some(p) => Platform::parse(p)
            .ok_or_else(|| anyhow!("invalid --custom-platform {p:?}: want os/arch[/variant]"))?,
        None => Platform {
            os: "linux".into(),
            architecture: engine::host_arch().into(),
            variant: None,
            os_version: None,
        },
    })
}

/// The target platforms: `--custom-platform`'s list (duplicates dropped), else this
/// machine's.
pub(crate) fn target_platforms(custom: &[String]) -> anyhow::Result<Vec<Platform>> {
    let mut out: Vec<Platform> = Vec::new();
    for p in custom {
        let p = target_platform(Some(p))?;
        // As runtimes compare them: `linux/arm64/v8` is `linux/arm64`.
        if !out.iter().any(|o| o.key() == p.key()) {
            out.push(p);
        }
    }
    if out.is_empty() {
        out.push(target_platform(None)?);
    }
    Ok(out)
}

/// The build args that have a value (`--build-arg K` takes it from the environment).
pub(crate) fn known_build_args(args: &[(String, Option<String>)]) -> dockerfile::BuildArgs {
    dockerfile::BuildArgs::new(
        args.iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v))),
    )
}

/// The engine's options from the command line's.
pub(crate) fn build_options(
    opts: &Options,
    startup: &Startup,
    root: &Path,
    (context_dir, work): (&Path, &Path),
    platform: Platform,
    build_args: dockerfile::BuildArgs,
) -> anyhow::Result<BuildOptions> {
    Ok(BuildOptions {
        root: root.to_path_buf(),
        work_dir: work.to_path_buf(),
        platform,
        build_args,
        target: opts.target.clone(),
        skip_unused_stages: opts.skip_unused_stages,
        // `--use-new-run` snapshots by modification time.
        snapshot_mode: match opts.use_new_run {
            true => SnapshotMode::Time,
            false => opts.snapshot_mode,
        },
        single_snapshot: opts.single_snapshot,
        layer: rootfs::LayerOptions {
            compression: opts.compression,
            level: opts.compression_level,
            reproducible: opts.reproducible,
        },
        reproducible: opts.reproducible,
        ignore: ignore_list(opts, root, context_dir)?,
        labels: opts.labels.clone(),
        image_format: opts.image_format,
        force_build_metadata: opts.force_build_metadata,
        unpack: engine::UnpackLimits {
            retries: opts.image_fs_extract_retry,
            max_expansion: opts.env.max_layer_expansion,
            floor: engine::UnpackLimits::FLOOR,
        },
        hash_sources: opts.cache.enabled,
        materialize: opts.materialize,
        pre_cleanup: opts.pre_cleanup,
        cache_mounts: opts.kaniko_dir.join("caches"),
        secrets: read_secrets(&opts.secrets, startup)?,
        ssh_agent: opts.env.ssh_auth_sock.clone(),
        uploads: None,
        remote: remote_options(opts, startup)?,
    })
}

/// The largest secret, as BuildKit bounds them.
const MAX_SECRET: u64 = 500 * 1024;

/// `--secret` values, read once before the build: a file (at most 500 KiB) or a variable of
/// the executor's environment at start. Errors name the id and the source, never the value.
fn read_secrets(
    secrets: &[Secret],
    startup: &Startup,
) -> anyhow::Result<BTreeMap<String, engine::SecretValue>> {
    use std::io::Read;
    let mut out = BTreeMap::new();
    for s in secrets {
        let bytes = match &s.source {
            SecretSource::File(p) => {
                let mut buf = Vec::new();
                std::fs::File::open(p)
                    .and_then(|f| f.take(MAX_SECRET + 1).read_to_end(&mut buf))
                    .with_context(|| format!("--secret id={}: reading {}", s.id, p.display()))?;
                buf
            }
            SecretSource::Env(var) => startup
                .var(var)
                .ok_or_else(|| anyhow!("--secret id={}: variable {var} is not set", s.id))?
                .as_bytes()
                .to_vec(),
        };
        if bytes.len() as u64 > MAX_SECRET {
            bail!("--secret id={}: larger than {MAX_SECRET} bytes", s.id);
        }
        out.insert(s.id.clone(), engine::SecretValue::new(bytes));
    }
    Ok(out)
}

/// What remote contexts and `ADD <git URL>` fetch with: flags, the environment at start,
/// the resolver, and where git credentials may go.
pub(crate) fn remote_options(
    opts: &Options,
    startup: &Startup,
) -> anyhow::Result<contextsrc::Options> {
    Ok(contextsrc::Options {
        credential_origins: git_credential_origins(opts, startup),
        expansion: contextsrc::Expansion {
            ratio: opts.env.max_layer_expansion,
            floor: engine::UnpackLimits::FLOOR,
        },
        ..opts.remote_context_options(
            contextsrc::Env::from_pairs(startup.vars()),
            startup.resolver.clone(),
        )
    })
}

/// Where `GIT_TOKEN`, `GIT_USERNAME` and `GIT_PASSWORD` may go: the git context's origin
/// (https, or http with `GIT_PULL_METHOD=http`) and the `[scheme://]host[:port]` entries of
/// `KANIKO_GIT_CREDENTIAL_HOSTS` (comma-separated).
fn git_credential_origins(opts: &Options, startup: &Startup) -> Vec<String> {
    let mut out: Vec<String> = startup
        .var("KANIKO_GIT_CREDENTIAL_HOSTS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect();
    if let ContextSource::Git { repo, .. } = &opts.context {
        let scheme = match startup.var("GIT_PULL_METHOD") {
            Some("http") => "http",
            _ => "https",
        };
        let authority = repo.split('/').next().unwrap_or(repo);
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        out.push(format!("{scheme}://{host}"));
    }
    out
}

/// Paths never unpacked over, snapshotted nor written: every mount point, the context,
/// the kaniko dir, `--ignore-path`, /var/run. Without a readable mount table the build
/// could write over a mounted volume, so that is an error.
fn ignore_list(opts: &Options, root: &Path, context: &Path) -> anyhow::Result<rootfs::IgnoreList> {
    let mut paths: Vec<PathBuf> = Vec::new();
    if root == Path::new("/") {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .context("reading /proc/self/mountinfo (the mounted paths a build must not touch)")?;
        paths.extend(
            rootfs::IgnoreList::from_mountinfo(&mountinfo)
                .into_iter()
                .filter(|p| p != Path::new("/")),
        );
        paths.push(context.to_path_buf());
    }
    paths.extend(["/proc", "/sys", "/dev"].map(PathBuf::from));
    paths.push(opts.kaniko_dir.clone());
    paths.extend(opts.ignore_paths.iter().map(PathBuf::from));
    paths.extend(caching::cache_paths(opts));
    if opts.ignore_var_run {
        paths.push("/var/run".into());
    }
    Ok(rootfs::IgnoreList::new(paths))
}

#[cfg(test)]
mod tests {
    use super::target_platforms;

    #[test]
    fn target_platforms_drop_duplicates_as_runtimes_compare_them() {
        let list = ["linux/arm64", "linux/amd64", "linux/arm64/v8"].map(String::from);
        let got: Vec<String> = target_platforms(&list)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(got, ["linux/arm64", "linux/amd64"]);
    }
}
