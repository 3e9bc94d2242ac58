//! Registries that need credentials or TLS: htpasswd basic auth, bearer tokens from a token
//! service, TLS with a self-signed certificate; the executor reads /kaniko/.docker/config.json.

mod common;
use common::*;
use testkit::registry::{Auth, Registry};
use testkit::sandbox::Sandbox;

fn auth_build(reg: &Registry, tls: bool, config: &str, extra: &[&str]) -> testkit::sandbox::Output {
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN echo secured > /s.txt\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/auth:1", reg.addr);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path()).docker_config(config);
    if let Some(ca) = &reg.ca_cert {
        sb.file("kaniko/ca.crt", &std::fs::read(ca).unwrap());
    }
    let mut args = vec!["--destination", dest.as_str()];
    if !tls {
        args.extend(["--insecure", "--insecure-pull"]);
    }
    args.extend_from_slice(extra);
    sb.run(&args).unwrap()
}

fn check_auth(auth: Auth, tls: bool) {
    let reg = Registry::start(auth, tls).unwrap();
    let (user, pass) = reg
        .credentials()
        .map(|(u, p)| (u.to_string(), p.to_string()))
        .unwrap_or_default();
    push_busybox_to(&reg);
    let ca_flag = format!("{}=/kaniko/ca.crt", reg.addr);
    let tls_args: Vec<&str> = if tls {
        vec!["--registry-certificate", &ca_flag]
    } else {
        vec![]
    };

    // Right credentials: the build pushes.
    let out = auth_build(&reg, tls, &reg.docker_config(&user, &pass), &tls_args);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains("Pushed "), "{}", out.stderr);

    if !user.is_empty() {
        // Wrong credentials: a one-line error naming the 401, and no secret in any line.
        let out = auth_build(
            &reg,
            tls,
            &reg.docker_config(&user, "wrong-secret-xyz"),
            &tls_args,
        );
        assert_eq!(out.status, 1, "{}", out.stderr);
        assert!(out.stderr.contains("401"), "{}", out.stderr);
        assert!(
            !out.stderr.contains("wrong-secret-xyz"),
            "secret leaked:\n{}",
            out.stderr
        );
        // Debug logging shows no secret either.
        let out = auth_build(
            &reg,
            tls,
            &reg.docker_config(&user, &pass),
            &[tls_args.clone(), vec!["--verbosity", "trace"]].concat(),
        );
        assert_eq!(out.status, 0, "{}", out.stderr);
        assert!(
            !out.stderr.contains(pass.as_str()),
            "secret leaked:\n{}",
            out.stderr
        );
    }
}

#[test]
fn basic_auth() {
    check_auth(
        Auth::Basic {
            user: "alice".into(),
            password: "s3cret-basic".into(),
        },
        false,
    );
}

#[test]
fn token_auth() {
    check_auth(
        Auth::Token {
            user: "bob".into(),
            password: "s3cret-token".into(),
        },
        false,
    );
}

#[test]
fn tls_with_ca_certificate() {
    check_auth(Auth::None, true);
}

#[test]
fn tls_without_ca_fails_and_skip_verify_works() {
    let reg = Registry::start(Auth::None, true).unwrap();
    push_busybox_to(&reg);
    let out = auth_build(&reg, true, "{}", &[]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.to_lowercase().contains("certificate"),
        "{}",
        out.stderr
    );
    let out = auth_build(
        &reg,
        true,
        "{}",
        &["--skip-tls-verify", "--skip-tls-verify-pull"],
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
}

/// ADD <https url> goes through the registry client's TLS settings for that host: trusted
/// with `--registry-certificate host=ca`, refused without, never sent credentials.
#[test]
fn add_url_uses_the_tls_flags_for_its_host() {
    let tls = Registry::start(Auth::None, true).unwrap();
    let plain = registry_with_busybox();
    let ca = std::fs::read(tls.ca_cert.as_ref().unwrap()).unwrap();
    let df = format!(
        "FROM {}/library/busybox:latest\nADD https://{}/v2/ /fetched/v2.json\n",
        plain.addr, tls.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let ca_flag = format!("{}=/kaniko/ca.crt", tls.addr);
    for (extra, ok) in [
        (vec![], false),
        (vec!["--registry-certificate", ca_flag.as_str()], true),
    ] {
        let mut sb = testkit::sandbox::Sandbox::new(&executor()).unwrap();
        sb.context(ctx.path()).file("/kaniko/ca.crt", &ca);
        let dest = format!("{}/test/addurl:1", plain.addr);
        let mut args = vec![
            "--context",
            "/workspace",
            "--dockerfile",
            "Dockerfile",
            "--insecure",
            "--insecure-pull",
            "--destination",
            &dest,
        ];
        args.extend(extra.iter().copied());
        let out = sb.run(&args).unwrap();
        assert_eq!(out.status == 0, ok, "{}", out.stderr);
        if ok {
            let got = run_image(
                &plain,
                "test/addurl:1",
                Some(&["cat".into(), "/fetched/v2.json".into()]),
            );
            assert_eq!(got.trim(), "{}");
        } else {
            assert!(out.stderr.contains(&tls.addr), "{}", out.stderr);
        }
    }
}
