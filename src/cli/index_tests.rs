//! Tests of `executor index`'s command line.

use super::*;
use std::path::PathBuf;

fn index(argv: &[&str], env: &[(&str, &str)]) -> Result<IndexOptions, CliError> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut args = vec!["executor", "index"];
    args.extend_from_slice(argv);
    match parse_with_env(args.iter().map(OsString::from), &lookup)? {
        Invocation::Index(i) => Ok(*i),
        other => panic!("{argv:?}: want index, got {other:?}"),
    }
}

#[test]
fn sources_destinations_and_outputs() {
    let o = index(
        &[
            "--destination",
            "r.io/app:1",
            "r.io/app:1-amd64",
            "",
            "-d=r.io/app:latest",
            "r.io/app@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "--digest-file=/d",
            "--image-name-with-digest-file",
            "/n",
            "--image-name-tag-with-digest-file=/t",
            "--push-retry=2",
            "--insecure",
            "--skip-tls-verify",
            "--registry-certificate=r.io=/ca.crt",
            "--verbosity=debug",
        ],
        &[
            ("KANIKO_DIR", "/k"),
            ("KANIKO_REGISTRY_MIRROR", "mirror.io"),
        ],
    )
    .unwrap();
    assert_eq!(o.sources.len(), 2, "the empty word is dropped");
    assert_eq!(o.destinations, ["r.io/app:1", "r.io/app:latest"]);
    assert_eq!(o.digest_file, Some(PathBuf::from("/d")));
    assert_eq!(o.image_name_with_digest_file, Some(PathBuf::from("/n")));
    assert_eq!(o.image_name_tag_with_digest_file, Some(PathBuf::from("/t")));
    assert_eq!(o.push_retry, 2);
    assert_eq!(o.kaniko_dir, PathBuf::from("/k"));
    assert_eq!(o.verbosity, Level::Debug);
    // Reading the sources is part of the push.
    assert!(o.registry.insecure && o.registry.insecure_pull);
    assert!(o.registry.skip_tls_verify && o.registry.skip_tls_verify_pull);
    assert_eq!(o.registry.registry_certificates.len(), 1);
    // The environment's mirror serves base images only.
    assert!(o.registry.registry_mirrors.is_empty());
}

#[test]
fn refuses_what_cannot_work() {
    let usage = |argv: &[&str]| match index(argv, &[]) {
        Err(CliError::Usage(m)) => m,
        other => panic!("{argv:?}: {other:?}"),
    };
    assert!(usage(&["r.io/a:1"]).contains("--destination"));
    assert!(usage(&["-d", "r.io/a:1"]).contains("source"));
    let m = usage(&["-d", "r.io/a:1", "r.io/a:2", "--registry-mirror=m.io"]);
    assert!(m.contains("--registry-mirror"), "{m}");
    let m = usage(&["-d", "r.io/a:1", "r.io/a:2", "--registry-map=a=b"]);
    assert!(m.contains("--registry-map"), "{m}");
    // A bad value names its flag; a stray flag is clap's error.
    let e = index(&["-d", "r.io/a:1", "r.io/a:2", "--push-retry=x"], &[]).unwrap_err();
    assert!(e.to_string().contains("push-retry"), "{e}");
    assert!(index(&["-d", "r.io/a:1", "r.io/a:2", "--context=/x"], &[]).is_err());
}
