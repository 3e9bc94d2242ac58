//! `executor login` writes `$DOCKER_CONFIG/config.json` as `docker login` does, and the
//! next build in the same pod pushes to an htpasswd registry with it.

mod common;
use base64::Engine;
use common::*;
use testkit::images::{inspect_as, push_busybox_with, Access, ImageSpec};
use testkit::registry::{Auth, Registry};
use testkit::sandbox::Sandbox;

const USER: &str = "carol";
const PASSWORD: &str = "l0gin-Pa55";

#[test]
fn login_then_build_pushes_with_the_stored_credentials() {
    let reg = Registry::start(
        Auth::Basic {
            user: USER.into(),
            password: PASSWORD.into(),
        },
        false,
    )
    .unwrap();
    let access = Access {
        creds: reg.credentials(),
        ca_cert: None,
    };
    push_busybox_with(
        &reg.addr,
        "library/busybox:latest",
        &ImageSpec::default(),
        &access,
    )
    .unwrap();
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN echo in > /in\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path());
    // Another registry's entry and a setting, which login keeps.
    sb.docker_config(
        r#"{"auths":{"other.example":{"auth":"b3RoZXI6cHc="}},"credHelpers":{"x.example":"gcr"}}"#,
    );
    let dest = format!("{}/test/login:1", reg.addr);
    let build = |sb: &Sandbox| build_in(sb, &["--destination", &dest, "--verbosity=trace"]);

    // Without the login the registry refuses the push.
    let out = build(&sb);
    assert_eq!(out.status, 1, "{}", out.stderr);

    // docker's rules for the password flags.
    let out = sb
        .run(&[
            "login",
            &reg.addr,
            "-u",
            USER,
            "-p",
            "x",
            "--password-stdin",
        ])
        .unwrap();
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("mutually exclusive"), "{}", out.stderr);

    let stdin = format!("{PASSWORD}\n");
    let out = sb
        .run_with_stdin(
            &["login", &reg.addr, "-u", USER, "--password-stdin"],
            Some(stdin.as_bytes()),
        )
        .unwrap();
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(!out.stderr.contains(PASSWORD) && !out.stdout.contains(PASSWORD));
    let config: serde_json::Value = serde_json::from_slice(
        &std::fs::read(sb.root().join("kaniko/.docker/config.json")).unwrap(),
    )
    .unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    assert_eq!(config["auths"][&reg.addr]["auth"], auth.as_str());
    assert_eq!(config["auths"]["other.example"]["auth"], "b3RoZXI6cHc=");
    assert_eq!(config["credHelpers"]["x.example"], "gcr");

    let out = build(&sb);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(!out.stderr.contains(PASSWORD), "the password is in the log");
    inspect_as(&reg.addr, "test/login:1", &access).expect("pushed with the stored login");

    // `-p` and Docker Hub's key.
    let out = sb
        .run(&["login", "docker.io", "-u", "hubuser", "-p", "hubpass"])
        .unwrap();
    assert_eq!(out.status, 0, "{}", out.stderr);
    // argv is readable by every process of the machine: docker's warning.
    assert!(
        out.stderr
            .contains("WARNING! Using --password via the CLI is insecure. Use --password-stdin."),
        "{}",
        out.stderr
    );
    let config: serde_json::Value = serde_json::from_slice(
        &std::fs::read(sb.root().join("kaniko/.docker/config.json")).unwrap(),
    )
    .unwrap();
    assert!(config["auths"]["https://index.docker.io/v1/"]["auth"].is_string());
    assert_eq!(config["auths"][&reg.addr]["auth"], auth.as_str());
}
