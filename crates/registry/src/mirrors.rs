//! Where to look for an image, as kaniko's `--registry-map`, `--registry-mirror` and
//! `--skip-default-registry-fallback` say: mapped registries first, then Docker Hub's mirrors,
//! then the reference's own registry unless the fallback is skipped.

use crate::reference::DOCKER_HUB;
use crate::{Options, Reference};

/// `r` moved to `target` (`host` or `host/prefix`), keeping its tag and digest.
fn remap(r: &Reference, target: &str) -> Reference {
    let target = target.trim_end_matches('/');
    let (host, prefix) = target.split_once('/').unwrap_or((target, ""));
    let host = match host {
        "docker.io" | "registry-1.docker.io" => DOCKER_HUB,
        h => h,
    };
    let repository = if prefix.is_empty() {
        r.repository.clone()
    } else {
        format!("{prefix}/{}", r.repository)
    };
    Reference {
        registry: host.to_string(),
        repository,
        ..r.clone()
    }
}

/// Whether a `--registry-map` key names `registry` (`docker.io` names Docker Hub).
fn names(key: &str, registry: &str) -> bool {
    key == registry
        || (registry == DOCKER_HUB && matches!(key, "docker.io" | "registry-1.docker.io"))
}

/// The references to try for `r`, in order.
pub fn candidates(opts: &Options, r: &Reference) -> Vec<Reference> {
    let mut out: Vec<Reference> = opts
        .registry_maps
        .iter()
        .filter(|(from, _)| names(from, &r.registry))
        .flat_map(|(_, tos)| tos.iter().map(|to| remap(r, to)))
        .collect();
    if r.registry == DOCKER_HUB {
        out.extend(opts.mirrors.iter().map(|m| remap(r, m)));
    }
    if out.is_empty() || !opts.skip_default_fallback {
        out.push(r.clone());
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: Vec<Reference>) -> Vec<String> {
        v.into_iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn mirrors_then_hub() {
        let opts = Options {
            mirrors: vec!["mirror.example".into(), "m2.example:5000/hub/".into()],
            ..Options::default()
        };
        let r: Reference = "busybox:1.36".parse().unwrap();
        assert_eq!(
            strs(candidates(&opts, &r)),
            [
                "mirror.example/library/busybox:1.36",
                "m2.example:5000/hub/library/busybox:1.36",
                "index.docker.io/library/busybox:1.36",
            ]
        );
        // Mirrors are for Docker Hub only.
        let other: Reference = "gcr.io/p/i:1".parse().unwrap();
        assert_eq!(strs(candidates(&opts, &other)), ["gcr.io/p/i:1"]);
        let skip = Options {
            skip_default_fallback: true,
            ..opts
        };
        assert_eq!(candidates(&skip, &r).len(), 2);
        assert!(!strs(candidates(&skip, &r))
            .iter()
            .any(|s| s.starts_with("index.docker.io")));
    }

    #[test]
    fn maps_any_registry() {
        let opts = Options {
            registry_maps: vec![
                (
                    "gcr.io".into(),
                    vec!["local:5000".into(), "other.example/pre".into()],
                ),
                ("docker.io".into(), vec!["hub-cache.example".into()]),
            ],
            mirrors: vec!["mirror.example".into()],
            skip_default_fallback: true,
            ..Options::default()
        };
        let r: Reference =
            "gcr.io/p/i@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .parse()
                .unwrap();
        let got = strs(candidates(&opts, &r));
        assert_eq!(got.len(), 2);
        assert!(got[0].starts_with("local:5000/p/i@sha256:"), "{got:?}");
        assert!(
            got[1].starts_with("other.example/pre/p/i@sha256:"),
            "{got:?}"
        );
        let hub: Reference = "alpine".parse().unwrap();
        assert_eq!(
            strs(candidates(&opts, &hub)),
            [
                "hub-cache.example/library/alpine:latest",
                "mirror.example/library/alpine:latest"
            ]
        );
        // Nothing configured for this registry: the reference itself even when skipping.
        let own: Reference = "quay.io/a/b".parse().unwrap();
        assert_eq!(strs(candidates(&opts, &own)), ["quay.io/a/b:latest"]);
    }
}
