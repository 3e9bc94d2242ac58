use super::super::{parse_with_env, Invocation, Options};
use super::*;
use std::cell::RefCell;
use std::ffi::OsString;

/// A build parsed with `vars`, and how often each variable was asked for.
fn build_counting(vars: &[(&str, &str)]) -> (Result<Options, CliError>, BTreeMap<String, usize>) {
    let asked = RefCell::new(BTreeMap::<String, usize>::new());
    let lookup = |k: &str| {
        *asked.borrow_mut().entry(k.to_string()).or_default() += 1;
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    let args = ["executor", "--no-push"].map(OsString::from);
    let got = parse_with_env(args, &lookup).map(|i| match i {
        Invocation::Build(o) => *o,
        other => panic!("want a build, got {other:?}"),
    });
    (got, asked.into_inner())
}

#[test]
fn each_variable_is_read_once() {
    let (got, asked) = build_counting(&[]);
    got.unwrap();
    let twice: Vec<_> = asked.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "read more than once: {twice:?}");
    for var in [
        "SSH_AUTH_SOCK",
        "KANIKO_MAX_LAYER_EXPANSION",
        "BUILDER_OUTPUT",
        "container",
        "DOCKER_CONFIG",
        "PATH",
        "KANIKO_REGISTRY_READ_TIMEOUT",
        "KANIKO_TELEMETRY_ENDPOINT",
        "TRACEPARENT",
    ] {
        assert_eq!(asked.get(var), Some(&1), "{var}");
    }
}

#[test]
fn defaults_without_any_variable() {
    let (got, _) = build_counting(&[]);
    let o = got.unwrap();
    assert_eq!(o.env, Environment::default());
    assert_eq!(o.env.max_layer_expansion, 200);
    assert_eq!(o.registry.tuning, registry::Tuning::default());
    assert_eq!(o.registry.docker_config, None);
    assert_eq!(o.registry.helper_path, None);
    assert_eq!(
        o.registry.docker_config_dir(Path::new("/kaniko")),
        Path::new("/kaniko/.docker")
    );
}

#[test]
fn values_are_taken_and_empty_ones_are_unset() {
    let (got, _) = build_counting(&[
        ("SSH_AUTH_SOCK", "/run/agent.sock"),
        ("KANIKO_MAX_LAYER_EXPANSION", " 0 "),
        ("BUILDER_OUTPUT", ""),
        ("container", "podman"),
        ("DOCKER_CONFIG", "/cfg"),
        ("PATH", "/usr/bin:/bin"),
        ("KANIKO_REGISTRY_READ_TIMEOUT", "2s"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "not ours"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318?token=s3kr1t"),
    ]);
    let o = got.unwrap();
    assert_eq!(
        o.env.ssh_auth_sock.as_deref(),
        Some(Path::new("/run/agent.sock"))
    );
    assert_eq!(o.env.max_layer_expansion, 0);
    assert_eq!(o.env.builder_output, None);
    assert_eq!(o.env.container.as_deref(), Some("podman"));
    assert_eq!(o.registry.helper_path.as_deref(), Some("/usr/bin:/bin"));
    assert_eq!(
        o.registry.tuning.read_timeout,
        std::time::Duration::from_secs(2)
    );
    let mut reg = o.registry.clone();
    assert_eq!(
        reg.docker_config_dir(Path::new("/kaniko")),
        Path::new("/cfg")
    );
    // The kaniko dir moved: its copy of the config is the one, as DOCKER_CONFIG then says.
    reg.follow_kaniko_dir(Path::new("/k2"));
    assert_eq!(
        reg.docker_config_dir(Path::new("/k2")),
        Path::new("/k2/.docker")
    );
    // The trace variables: only the listed ones kept, printed by name only.
    let t = &o.env.telemetry;
    assert_eq!(t.get("OTEL_EXPORTER_OTLP_HEADERS"), None);
    assert_eq!(
        t.get("OTEL_EXPORTER_OTLP_ENDPOINT").as_deref(),
        Some("http://c:4318?token=s3kr1t")
    );
    let printed = format!("{o:?}");
    assert!(!printed.contains("s3kr1t"), "{printed}");
}

#[test]
fn a_bad_value_names_the_variable() {
    let cases = [
        (
            ("KANIKO_MAX_LAYER_EXPANSION", "lots"),
            "KANIKO_MAX_LAYER_EXPANSION=\"lots\": want a whole number",
        ),
        (
            ("KANIKO_MAX_LAYER_EXPANSION", ""),
            "KANIKO_MAX_LAYER_EXPANSION=\"\": want a whole number",
        ),
        (
            ("KANIKO_REGISTRY_READ_TIMEOUT", "soon"),
            "invalid value \"soon\" for environment variable KANIKO_REGISTRY_READ_TIMEOUT",
        ),
    ];
    for ((var, value), want) in cases {
        let (got, _) = build_counting(&[(var, value)]);
        let err = got.unwrap_err().to_string();
        assert!(err.contains(want), "{var}={value:?}: {err}");
    }
}
