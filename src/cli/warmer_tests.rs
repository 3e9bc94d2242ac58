//! Tests of the warmer's command line (by argv[0] and as a subcommand).

use super::*;
use std::path::PathBuf;
use std::time::Duration;

fn warmer(argv: &[&str], env: &[(&str, &str)]) -> Result<WarmerOptions, CliError> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    match parse_with_env(argv.iter().map(OsString::from), &lookup)? {
        Invocation::Warmer(w) => Ok(*w),
        other => panic!("{argv:?}: want the warmer, got {other:?}"),
    }
}

#[test]
fn warmer_by_argv0_and_by_subcommand() {
    let full = [
        "-i",
        "alpine:3",
        "--image=debian:12",
        "-d",
        "/ws/Dockerfile",
        "-c",
        "/c2",
        "--cache-ttl=6h",
        "-f",
        "--build-arg=V=1",
        "--customPlatform=linux/arm64",
        "--registry-mirror=m.io",
        "--insecure-pull",
        "--skip-tls-verify-pull=true",
        "-v",
        "debug",
        "--log-format=json",
    ];
    for argv0 in ["/kaniko/warmer", "warmer"] {
        let argv: Vec<&str> = std::iter::once(argv0).chain(full.iter().copied()).collect();
        let w = warmer(&argv, &[("KANIKO_REGISTRY_MAP", "a.io=b.io")]).unwrap();
        assert_eq!(w.images, vec!["alpine:3", "debian:12"]);
        assert_eq!(w.dockerfile, Some(PathBuf::from("/ws/Dockerfile")));
        assert_eq!(w.cache_dir, PathBuf::from("/c2"));
        assert_eq!(w.cache_ttl, Duration::from_secs(6 * 3600));
        assert!(w.force);
        assert_eq!(w.build_args, vec![("V".to_string(), Some("1".to_string()))]);
        assert_eq!(w.custom_platform.as_deref(), Some("linux/arm64"));
        assert_eq!(w.registry.registry_mirrors, vec!["m.io"]);
        assert_eq!(
            w.registry.registry_maps,
            vec![("a.io".to_string(), vec!["b.io".to_string()])]
        );
        assert!(w.registry.insecure_pull && w.registry.skip_tls_verify_pull);
        assert_eq!((w.verbosity, w.log_format), (Level::Debug, LogFormat::Json));
    }
    let w = warmer(
        &[
            "/kaniko/executor",
            "warmer",
            "--image",
            "busybox",
            "--custom-platform=linux/amd64",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(w.images, vec!["busybox"]);
    assert_eq!(w.cache_dir, PathBuf::from("/cache"));
    assert_eq!(w.cache_ttl, Duration::from_secs(336 * 3600));
    assert!(!w.force);
    assert_eq!(w.custom_platform.as_deref(), Some("linux/amd64"));

    let e = warmer(&["warmer"], &[]).unwrap_err().to_string();
    assert!(e.contains("--image"), "{e}");
    let e = warmer(&["warmer", "-i", "x", "--cache-ttl=forever"], &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("--cache-ttl") && e.contains("forever"), "{e}");
    // The executor's own flags are not the warmer's.
    let e = warmer(&["warmer", "-i", "x", "--destination=y"], &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("--destination"), "{e}");
}
