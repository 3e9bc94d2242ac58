//! Command-line tests: every flag of the spec by long name, short form and alias; defaults;
//! environment fallbacks; boolean forms; repeats; errors naming the flag; `version`; warmer.

use super::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn args(a: &[&str]) -> Vec<OsString> {
    std::iter::once("executor")
        .chain(a.iter().copied())
        .map(OsString::from)
        .collect()
}

fn parse_env(a: &[&str], env: &[(&str, &str)]) -> Result<Invocation, CliError> {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    parse_with_env(args(a), &lookup)
}

fn build_env(a: &[&str], env: &[(&str, &str)]) -> Options {
    match parse_env(a, env) {
        Ok(Invocation::Build(o)) => *o,
        other => panic!("{a:?}: want a build, got {other:?}"),
    }
}

pub(super) fn build(a: &[&str]) -> Options {
    build_env(a, &[])
}

pub(super) fn error_of(a: &[&str]) -> String {
    error(a)
}

fn error(a: &[&str]) -> String {
    match parse_env(a, &[]) {
        Err(e) => e.to_string(),
        Ok(i) => panic!("{a:?}: want an error, got {i:?}"),
    }
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn clap_definitions_are_consistent() {
    use clap::CommandFactory;
    flags::ExecutorCli::command().debug_assert();
    flags::WarmerCli::command().debug_assert();
}

#[test]
fn defaults_match_the_spec() {
    let o = build(&[]);
    let want = Options {
        context: ContextSource::Dir(PathBuf::from("/workspace/")),
        context_sub_path: None,
        dockerfile: "Dockerfile".into(),
        git: GitOptions::default(),
        build_args: vec![],
        target: None,
        skip_unused_stages: false,
        custom_platforms: vec![],
        labels: vec![],
        annotations: vec![],
        secrets: vec![],
        destinations: vec![],
        no_push: false,
        tar_path: None,
        oci_layout_path: None,
        digest_file: None,
        image_name_with_digest_file: None,
        image_name_tag_with_digest_file: None,
        image_format: None,
        compression: Compression::Gzip,
        compression_level: -1,
        reproducible: false,
        push_retry: 0,
        push_ignore_immutable_tag_errors: false,
        skip_push_permission_check: false,
        attestations: Attestations::default(),
        registry: RegistryOptions::default(),
        snapshot_mode: SnapshotMode::Full,
        single_snapshot: false,
        use_new_run: false,
        ignore_paths: vec![],
        ignore_var_run: true,
        image_fs_extract_retry: 0,
        force: false,
        force_build_metadata: false,
        cleanup: false,
        pre_cleanup: false,
        preserve_context: false,
        materialize: false,
        dryrun: false,
        kaniko_dir: PathBuf::from("/kaniko"),
        cache: CacheOptions {
            enabled: false,
            repo: None,
            dir: PathBuf::from("/cache"),
            ttl: Duration::from_secs(336 * 3600),
            copy_layers: false,
            run_layers: true,
            compressed: true,
            no_push_cache: false,
        },
        verbosity: Level::Info,
        log_format: LogFormat::Color,
        log_timestamp: false,
        env: Environment::default(),
    };
    assert_eq!(o, want);
}

type Check = fn(&Options) -> bool;

#[test]
fn value_flags_by_long_short_and_alias() {
    let cases: &[(&[&str], Check)] = &[
        (&["--context=/src"], |o| {
            o.context == ContextSource::Dir("/src".into())
        }),
        (&["--context", "/src"], |o| {
            o.context == ContextSource::Dir("/src".into())
        }),
        (&["-c", "/src"], |o| {
            o.context == ContextSource::Dir("/src".into())
        }),
        (&["-c/src"], |o| {
            o.context == ContextSource::Dir("/src".into())
        }),
        (&["--context-sub-path", "app"], |o| {
            o.context_sub_path.as_deref() == Some("app")
        }),
        (&["--context-sub-path="], |o| o.context_sub_path.is_none()),
        (&["--dockerfile", "x/Dockerfile.dev"], |o| {
            o.dockerfile == "x/Dockerfile.dev"
        }),
        (&["-f", "/abs/Df"], |o| o.dockerfile == "/abs/Df"),
        (&["--git", "branch=main,single-branch=true"], |o| {
            o.git.branch.as_deref() == Some("main")
                && o.git.single_branch
                && !o.git.recurse_submodules
        }),
        (
            &["--git=recurse-submodules=true", "--git=insecure-skip-tls=t"],
            |o| o.git.recurse_submodules && o.git.insecure_skip_tls && o.git.branch.is_none(),
        ),
        (&["--build-arg", "A=1", "--build-arg=B=x=y"], |o| {
            o.build_args
                == vec![
                    ("A".into(), Some("1".into())),
                    ("B".into(), Some("x=y".into())),
                ]
        }),
        (&["--target", "final"], |o| {
            o.target.as_deref() == Some("final")
        }),
        (&["--custom-platform", "linux/arm64/v8"], |o| {
            o.custom_platforms == ["linux/arm64/v8"]
        }),
        (&["--customPlatform=linux/arm64"], |o| {
            o.custom_platforms == ["linux/arm64"]
        }),
        (
            &[
                "--platform=linux/amd64, linux/arm64/v8",
                "--custom-platform=linux/s390x",
            ],
            |o| o.custom_platforms == ["linux/amd64", "linux/arm64/v8", "linux/s390x"],
        ),
        (&["--label", "a=b", "--label=c=d=e"], |o| {
            o.labels == pairs(&[("a", "b"), ("c", "d=e")])
        }),
        (&["--annotation", "org.x=1"], |o| {
            o.annotations == pairs(&[("org.x", "1")])
        }),
        (&["--secret", "id=tok,src=/run/tok"], |o| {
            o.secrets
                == vec![Secret {
                    id: "tok".into(),
                    source: SecretSource::File("/run/tok".into()),
                }]
        }),
        (
            &[
                "-d",
                "r.io/a:1",
                "--destination",
                "r.io/a:2",
                "--destination=r.io/b",
            ],
            |o| o.destinations == vec!["r.io/a:1", "r.io/a:2", "r.io/b"],
        ),
        (&["--tar-path", "/out/i.tar"], |o| {
            o.tar_path == Some("/out/i.tar".into())
        }),
        (&["--tarPath=/out/j.tar"], |o| {
            o.tar_path == Some("/out/j.tar".into())
        }),
        (&["--oci-layout-path", "/oci"], |o| {
            o.oci_layout_path == Some("/oci".into())
        }),
        (&["--digest-file=/d"], |o| {
            o.digest_file == Some("/d".into())
        }),
        (&["--image-name-with-digest-file", "/n"], |o| {
            o.image_name_with_digest_file == Some("/n".into())
        }),
        (&["--image-name-tag-with-digest-file", "/t"], |o| {
            o.image_name_tag_with_digest_file == Some("/t".into())
        }),
        (&["--image-format", "oci"], |o| {
            o.image_format == Some(image::Format::Oci)
        }),
        (&["--image-format=docker"], |o| {
            o.image_format == Some(image::Format::Docker)
        }),
        (
            &["--compression", "zstd", "--compression-level", "19"],
            |o| o.compression == Compression::Zstd && o.compression_level == 19,
        ),
        (&["--compression-level", "-1"], |o| {
            o.compression_level == -1
        }),
        (&["--compression-level=9"], |o| {
            o.compression == Compression::Gzip && o.compression_level == 9
        }),
        (&["--push-retry", "3"], |o| o.push_retry == 3),
        (
            &["--insecure-registry", "a.io", "--insecure-registry=b.io"],
            |o| o.registry.insecure_registries == vec!["a.io", "b.io"],
        ),
        (&["--skip-tls-verify-registry", "a.io"], |o| {
            o.registry.skip_tls_verify_registries == vec!["a.io"]
        }),
        (&["--registry-certificate", "a.io=/ca.pem"], |o| {
            o.registry.registry_certificates == vec![("a.io".to_string(), PathBuf::from("/ca.pem"))]
        }),
        (&["--registry-client-cert", "a.io=/c.pem,/k.pem"], |o| {
            o.registry.registry_client_certs
                == vec![(
                    "a.io".to_string(),
                    PathBuf::from("/c.pem"),
                    PathBuf::from("/k.pem"),
                )]
        }),
        (
            &["--registry-mirror", "m1.io", "--registry-mirror=m2.io"],
            |o| o.registry.registry_mirrors == vec!["m1.io", "m2.io"],
        ),
        (&["--registry-map", "docker.io=m.io;gcr.io=g.io"], |o| {
            o.registry.registry_maps
                == vec![
                    ("docker.io".to_string(), vec!["m.io".to_string()]),
                    ("gcr.io".to_string(), vec!["g.io".to_string()]),
                ]
        }),
        (&["--image-download-retry", "5"], |o| {
            o.registry.image_download_retry == 5
        }),
        (
            &[
                "--credential-helpers",
                "env",
                "--credential-helpers=ecr,gitlab",
            ],
            |o| {
                o.registry.credential_helpers
                    == Some(vec!["env".into(), "ecr".into(), "gitlab".into()])
            },
        ),
        (&["--credential-helpers="], |o| {
            o.registry.credential_helpers == Some(vec![])
        }),
        (&["--credential-helpers=docker"], |o| {
            o.registry.credential_helpers == Some(vec!["docker".into()])
        }),
        (&["--snapshot-mode", "redo"], |o| {
            o.snapshot_mode == SnapshotMode::Redo
        }),
        (&["--snapshotMode=time"], |o| {
            o.snapshot_mode == SnapshotMode::Time
        }),
        (&["--ignore-path", "/a", "--ignore-path=/b"], |o| {
            o.ignore_paths == vec![PathBuf::from("/a"), "/b".into()]
        }),
        (&["--image-fs-extract-retry", "2"], |o| {
            o.image_fs_extract_retry == 2
        }),
        (&["--kaniko-dir", "/k2"], |o| {
            o.kaniko_dir == Path::new("/k2")
        }),
        (&["--cache-repo", "r.io/cache"], |o| {
            o.cache.repo.as_deref() == Some("r.io/cache")
        }),
        (&["--cache-dir", "/c2"], |o| o.cache.dir == Path::new("/c2")),
        (&["--cache-ttl", "6h"], |o| {
            o.cache.ttl == Duration::from_secs(6 * 3600)
        }),
        (&["--cache-ttl=1h30m"], |o| {
            o.cache.ttl == Duration::from_secs(5400)
        }),
        (&["--verbosity", "debug"], |o| o.verbosity == Level::Debug),
        (&["-v", "trace"], |o| o.verbosity == Level::Trace),
        (&["-v=panic"], |o| o.verbosity == Level::Panic),
        (&["-vwarn"], |o| o.verbosity == Level::Warn),
        (&["--verbosity=Fatal"], |o| o.verbosity == Level::Fatal),
        (&["--verbosity=error"], |o| o.verbosity == Level::Error),
        (&["--log-format", "json"], |o| {
            o.log_format == LogFormat::Json
        }),
        (&["--log-format=text"], |o| o.log_format == LogFormat::Text),
        (&["--bucket", "my-bucket", "--context="], |o| {
            o.context == ContextSource::Gcs("gs://my-bucket".into())
        }),
        (&["-b", "s3://b/ctx.tgz", "-c", "gs://other"], |o| {
            o.context == ContextSource::S3("s3://b/ctx.tgz".into())
        }),
        (&["-b", "ignored", "-c", "/local"], |o| {
            o.context == ContextSource::Dir("/local".into())
        }),
    ];
    for (a, check) in cases {
        let o = build(a);
        assert!(check(&o), "{a:?} gave {o:#?}");
    }
}

type BoolGet = fn(&Options) -> bool;

#[test]
fn boolean_flags_take_every_form() {
    let flags: &[(&str, BoolGet, bool)] = &[
        ("skip-unused-stages", |o| o.skip_unused_stages, false),
        ("no-push", |o| o.no_push, false),
        ("reproducible", |o| o.reproducible, false),
        (
            "push-ignore-immutable-tag-errors",
            |o| o.push_ignore_immutable_tag_errors,
            false,
        ),
        (
            "skip-push-permission-check",
            |o| o.skip_push_permission_check,
            false,
        ),
        ("insecure", |o| o.registry.insecure, false),
        ("insecure-pull", |o| o.registry.insecure_pull, false),
        ("skip-tls-verify", |o| o.registry.skip_tls_verify, false),
        (
            "skip-tls-verify-pull",
            |o| o.registry.skip_tls_verify_pull,
            false,
        ),
        (
            "skip-default-registry-fallback",
            |o| o.registry.skip_default_registry_fallback,
            false,
        ),
        ("single-snapshot", |o| o.single_snapshot, false),
        ("use-new-run", |o| o.use_new_run, false),
        ("ignore-var-run", |o| o.ignore_var_run, true),
        ("whitelist-var-run", |o| o.ignore_var_run, true),
        ("force", |o| o.force, false),
        ("force-build-metadata", |o| o.force_build_metadata, false),
        ("cleanup", |o| o.cleanup, false),
        ("pre-cleanup", |o| o.pre_cleanup, false),
        ("preserve-context", |o| o.preserve_context, false),
        ("materialize", |o| o.materialize, false),
        ("dryrun", |o| o.dryrun, false),
        ("cache", |o| o.cache.enabled, false),
        ("cache-copy-layers", |o| o.cache.copy_layers, false),
        ("cache-run-layers", |o| o.cache.run_layers, true),
        ("compressed-caching", |o| o.cache.compressed, true),
        ("no-push-cache", |o| o.cache.no_push_cache, false),
        ("log-timestamp", |o| o.log_timestamp, false),
    ];
    for (name, get, default) in flags {
        assert_eq!(get(&build(&[])), *default, "--{name} default");
        assert!(get(&build(&[&format!("--{name}")])), "--{name}");
        for (v, want) in [
            ("true", true),
            ("false", false),
            ("1", true),
            ("0", false),
            ("T", true),
            ("F", false),
        ] {
            assert_eq!(
                get(&build(&[&format!("--{name}={v}")])),
                want,
                "--{name}={v}"
            );
        }
        // As in pflag, a separate word is not the boolean's value.
        let e = error(&[&format!("--{name}"), "false"]);
        assert!(e.contains("false"), "--{name} false: {e}");
        let e = error(&[&format!("--{name}=maybe")]);
        let canonical = if *name == "whitelist-var-run" {
            "ignore-var-run"
        } else {
            name
        };
        assert!(
            e.contains(canonical) && e.contains("maybe"),
            "--{name}=maybe: {e}"
        );
    }
}

#[test]
fn bad_values_name_the_flag_and_the_value() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--snapshot-mode=foo"],
            r#"invalid value "foo" for --snapshot-mode: want full, redo or time"#,
        ),
        (&["--snapshotMode=foo"], "--snapshot-mode"),
        (
            &["--compression=lz4"],
            r#"invalid value "lz4" for --compression: want gzip or zstd"#,
        ),
        (&["--compression-level=x"], "--compression-level"),
        (&["--compression-level=10"], "--compression-level"),
        (
            &["--compression=zstd", "--compression-level=23"],
            "--compression-level",
        ),
        (&["--compression-level=-2"], "--compression-level"),
        (&["--image-format=v2"], "--image-format"),
        (
            &["--verbosity=loud"],
            r#"invalid value "loud" for --verbosity"#,
        ),
        (
            &["--log-format=xml"],
            r#"invalid value "xml" for --log-format: want text, color or json"#,
        ),
        (&["--cache-ttl=2d"], r#"invalid value "2d" for --cache-ttl"#),
        (
            &["--push-retry=-1"],
            r#"invalid value "-1" for --push-retry"#,
        ),
        (&["--image-fs-extract-retry=x"], "--image-fs-extract-retry"),
        (&["--image-download-retry=1.5"], "--image-download-retry"),
        (&["--label=nokey"], r#"invalid value "nokey" for --label"#),
        (&["--annotation==v"], "--annotation"),
        (&["--build-arg=", "-d", "x"], "--build-arg"),
        (&["--registry-certificate=a.io"], "--registry-certificate"),
        (
            &["--registry-client-cert=a.io=/c"],
            "--registry-client-cert",
        ),
        (&["--registry-map=a.io"], "--registry-map"),
        (&["--git=branch"], "--git"),
        (&["--git=depth=1"], "--git"),
        (&["--git=single-branch=yes"], "--git"),
        (&["--secret=src=/x"], "--secret"),
        (&["--secret=id=a,type=file"], "--secret"),
        (&["--secret=id=a,type=ssh"], "--secret"),
        (&["--secret=id=a,foo=b"], "--secret"),
        (
            &["--context=ftp://x"],
            r#"invalid value "ftp://x" for --context"#,
        ),
        (&["--context=tar://"], "--context"),
        (&["--context="], "--context"),
        (&["--nope"], "--nope"),
        (&["--Destination=x"], "--Destination"),
        (&["stray"], "stray"),
    ];
    for (a, want) in cases {
        let e = error(a);
        assert!(e.contains(want), "{a:?}: {e:?} lacks {want:?}");
    }
}

#[test]
fn environment_fallbacks() {
    assert!(build_env(&[], &[("KANIKO_NO_PUSH", "true")]).no_push);
    assert!(!build_env(&["--no-push=false"], &[("KANIKO_NO_PUSH", "true")]).no_push);
    assert!(!build_env(&[], &[("KANIKO_NO_PUSH", "")]).no_push);
    assert!(build_env(&[], &[("KANIKO_CLEANUP", "1")]).cleanup);
    assert!(!build_env(&["--cleanup=false"], &[("KANIKO_CLEANUP", "1")]).cleanup);
    assert_eq!(
        build_env(&[], &[("KANIKO_DIR", "/kd")]).kaniko_dir,
        PathBuf::from("/kd")
    );
    assert_eq!(
        build_env(&["--kaniko-dir=/flag"], &[("KANIKO_DIR", "/kd")]).kaniko_dir,
        PathBuf::from("/flag")
    );
    let o = build_env(
        &["--registry-mirror=flag.io"],
        &[("KANIKO_REGISTRY_MIRROR", "env.io")],
    );
    assert_eq!(o.registry.registry_mirrors, vec!["flag.io", "env.io"]);
    let o = build_env(
        &["--registry-map=a.io=b.io"],
        &[("KANIKO_REGISTRY_MAP", "a.io=c.io;d.io=e.io")],
    );
    assert_eq!(
        o.registry.registry_maps,
        vec![
            (
                "a.io".to_string(),
                vec!["b.io".to_string(), "c.io".to_string()]
            ),
            ("d.io".to_string(), vec!["e.io".to_string()])
        ]
    );
    for (var, val) in [
        ("KANIKO_NO_PUSH", "maybe"),
        ("KANIKO_CLEANUP", "yes"),
        ("KANIKO_REGISTRY_MAP", "nomap"),
    ] {
        let e = parse_env(&[], &[(var, val)]).unwrap_err().to_string();
        assert!(e.contains(var) && e.contains(val), "{var}={val}: {e}");
    }
}

#[test]
fn build_args_without_value_come_from_the_environment() {
    let o = build_env(
        &[
            "--build-arg",
            "FROM_ENV",
            "--build-arg",
            "MISSING",
            "--build-arg=SET=x",
        ],
        &[("FROM_ENV", "v1")],
    );
    assert_eq!(
        o.build_args,
        vec![
            ("FROM_ENV".into(), Some("v1".into())),
            ("MISSING".into(), None),
            ("SET".into(), Some("x".into()))
        ]
    );
}

#[test]
fn contexts_by_scheme() {
    let cases: &[(&str, ContextSource)] = &[
        ("/workspace", ContextSource::Dir("/workspace".into())),
        ("dir:///ctx", ContextSource::Dir("/ctx".into())),
        ("tar://stdin", ContextSource::TarStdin),
        (
            "tar:///ctx.tar.gz",
            ContextSource::Tar("/ctx.tar.gz".into()),
        ),
        (
            "git://github.com/a/b.git#refs/heads/dev#0123abc",
            ContextSource::Git {
                repo: "github.com/a/b.git".into(),
                reference: Some("refs/heads/dev".into()),
                commit: Some("0123abc".into()),
            },
        ),
        (
            "git://github.com/a/b.git",
            ContextSource::Git {
                repo: "github.com/a/b.git".into(),
                reference: None,
                commit: None,
            },
        ),
        (
            "gs://bucket/ctx.tgz",
            ContextSource::Gcs("gs://bucket/ctx.tgz".into()),
        ),
        (
            "s3://bucket/ctx.tgz",
            ContextSource::S3("s3://bucket/ctx.tgz".into()),
        ),
        (
            "https://acct.blob.core.windows.net/c/ctx.tgz",
            ContextSource::Https("https://acct.blob.core.windows.net/c/ctx.tgz".into()),
        ),
    ];
    for (s, want) in cases {
        assert_eq!(&build(&["--context", s]).context, want, "{s}");
    }
}

#[test]
fn secrets_by_source() {
    let cases: &[(&str, SecretSource)] = &[
        ("id=a,src=/f", SecretSource::File("/f".into())),
        ("id=a,source=/f,type=file", SecretSource::File("/f".into())),
        ("id=a,env=TOKEN", SecretSource::Env("TOKEN".into())),
        ("type=env,id=a,src=TOKEN", SecretSource::Env("TOKEN".into())),
        ("id=a,type=env", SecretSource::Env("a".into())),
        ("id=a", SecretSource::Env("a".into())),
    ];
    for (s, want) in cases {
        let o = build(&["--secret", s]);
        assert_eq!(
            o.secrets,
            vec![Secret {
                id: "a".into(),
                source: want.clone()
            }],
            "{s}"
        );
    }
    assert_eq!(
        build(&["--secret=id=a", "--secret=id=b,src=/b"])
            .secrets
            .len(),
        2
    );
}

#[test]
fn version_subcommand() {
    assert!(matches!(
        parse_env(&["version"], &[]),
        Ok(Invocation::Version)
    ));
    assert!(matches!(
        parse_env(&["--force", "version"], &[]),
        Ok(Invocation::Version)
    ));
}

#[test]
fn help_is_not_an_error_exit() {
    let e = parse_env(&["--help"], &[]).unwrap_err();
    assert!(!e.use_stderr());
    assert!(e.to_string().contains("--destination"));
    assert!(parse_env(&["--nope"], &[]).unwrap_err().use_stderr());
    assert!(parse_env(&["--snapshot-mode=x"], &[])
        .unwrap_err()
        .use_stderr());
}

#[test]
fn converts_to_the_binary_s_types() {
    assert_eq!(tracing::Level::from(Level::Fatal), tracing::Level::ERROR);
    assert_eq!(tracing::Level::from(Level::Warn), tracing::Level::WARN);
    assert_eq!(
        crate::logging::Format::from(LogFormat::Json),
        crate::logging::Format::Json
    );
}
