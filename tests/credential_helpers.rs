//! The built-in credential helpers (`--credential-helpers`), each against a local stand-in
//! of its token service with a real registry behind (Debian's docker-registry with token
//! auth, or htpasswd): a build in the pod sandbox pulls its base and pushes through the
//! credentials the helper obtained, a wrong credential fails with the service's answer,
//! and no secret reaches the log at `--verbosity=trace`. Registry host names such as
//! `<account>.dkr.ecr.<region>.amazonaws.com` point at the loopback registry through the
//! sandbox's `/etc/hosts` (the port stays in the reference; the helpers match host names).

mod common;
use common::*;
use testkit::images::{inspect_as, Access};
use testkit::proxy::{Fault, FaultProxy, Rule};
use testkit::registry::{Auth, Registry};
use testkit::sandbox::{Output, Sandbox};
use testkit::tokens::{rsa_key, service_account_json, Accept, TokenServices};

/// A registry (token auth, or htpasswd with `basic`) holding busybox for `user`/`password`.
fn registry(user: &str, password: &str, basic: bool) -> Registry {
    let (user, password) = (user.to_string(), password.to_string());
    let auth = if basic {
        Auth::Basic { user, password }
    } else {
        Auth::Token { user, password }
    };
    let reg = Registry::start(auth, false).unwrap();
    push_busybox_to(&reg);
    reg
}

/// `host:port` for a registry listening on `addr` under the name `host`.
fn named(host: &str, addr: &str) -> String {
    format!("{host}:{}", addr.rsplit_once(':').unwrap().1)
}

/// Builds `FROM <at>/library/busybox` + a RUN, pushing to `<at>/test/out:1`, with `env`,
/// `/etc/hosts` naming `host` (when given), `files` and `extra` flags, at trace level.
fn build(
    at: &str,
    tag: &str,
    host: Option<&str>,
    env: &[(&str, &str)],
    files: &[(&str, &[u8])],
    extra: &[&str],
) -> Output {
    let df = format!("FROM {at}/library/busybox:latest\nRUN echo helped > /helped\n");
    let ctx = context(&[("Dockerfile", &df)]);
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path());
    if let Some(h) = host {
        sb.hosts(&format!(
            "127.0.0.1 localhost {h}
"
        ));
    }
    for (k, v) in env {
        sb.env(k, v);
    }
    for (p, b) in files {
        sb.file(p, b);
    }
    let dest = format!("{at}/test/out:{tag}");
    let mut args = PLAIN.to_vec();
    args.extend(["--destination", &dest, "--verbosity=trace"]);
    args.extend_from_slice(extra);
    sb.run(&args).unwrap()
}

fn assert_pushed(out: &Output, reg: &Registry, tag: &str, secrets: &[&str]) {
    assert_eq!(out.status, 0, "stderr:\n{}", out.stderr);
    let access = Access {
        creds: reg.credentials(),
        ca_cert: None,
    };
    inspect_as(&reg.addr, &format!("test/out:{tag}"), &access).expect("the image was pushed");
    assert_no_secret(out, secrets);
}

fn assert_failed(out: &Output, reg: &Registry, tag: &str, want: &[&str], secrets: &[&str]) {
    assert_eq!(out.status, 1, "stderr:\n{}", out.stderr);
    for w in want {
        assert!(out.stderr.contains(w), "no {w:?} in:\n{}", out.stderr);
    }
    let access = Access {
        creds: reg.credentials(),
        ca_cert: None,
    };
    assert!(
        inspect_as(&reg.addr, &format!("test/out:{tag}"), &access).is_err(),
        "nothing is pushed"
    );
    assert_no_secret(out, secrets);
}

fn assert_no_secret(out: &Output, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !out.stderr.contains(s) && !out.stdout.contains(s),
            "secret {s:?} in the log:\n{}",
            out.stderr
        );
    }
}

#[test]
fn env_helper_and_the_flag_that_disables_it() {
    let reg = registry("envuser", "env-Pa55", true);
    let prefix = format!("KANIKO_{}", reg.addr.replace(['.', ':'], "_"));
    let (u, p) = (format!("{prefix}_USER"), format!("{prefix}_PASSWORD"));
    let out = build(
        &reg.addr,
        "t1",
        None,
        &[(&u, "envuser"), (&p, "env-Pa55")],
        &[],
        &[],
    );
    assert_pushed(&out, &reg, "t1", &["env-Pa55"]);

    // --credential-helpers= turns every built-in off: the registry refuses the anonymous push.
    let out = build(
        &reg.addr,
        "t2",
        None,
        &[(&u, "envuser"), (&p, "env-Pa55")],
        &[],
        &["--credential-helpers="],
    );
    assert_failed(&out, &reg, "t2", &["401"], &["env-Pa55"]);
    // A list without env leaves it off too; an unknown name is a warning, as in kaniko.
    let out = build(
        &reg.addr,
        "t3",
        None,
        &[(&u, "envuser"), (&p, "env-Pa55")],
        &[],
        &["--credential-helpers=gitlab,docker"],
    );
    assert_failed(
        &out,
        &reg,
        "t3",
        &["Unknown cred-source \"docker\", skipping.", "401"],
        &["env-Pa55"],
    );

    let out = build(
        &reg.addr,
        "t4",
        None,
        &[(&u, "envuser"), (&p, "wrong-Pa55")],
        &[],
        &[],
    );
    assert_failed(&out, &reg, "t4", &["401"], &["wrong-Pa55"]);
}

#[test]
fn gitlab_helper_with_registry_user_and_job_token() {
    let reg = registry("gitlab-ci-token", "job-T0ken", true);
    let out = build(
        &reg.addr,
        "t5",
        None,
        &[("CI_REGISTRY", &reg.addr), ("CI_JOB_TOKEN", "job-T0ken")],
        &[],
        &[],
    );
    assert_pushed(&out, &reg, "t5", &["job-T0ken"]);
    let env = [
        ("CI_REGISTRY", reg.addr.as_str()),
        ("CI_REGISTRY_USER", "gitlab-ci-token"),
        ("CI_REGISTRY_PASSWORD", "bad-T0ken"),
    ];
    let out = build(&reg.addr, "t6", None, &env, &[], &[]);
    assert_failed(&out, &reg, "t6", &["401"], &["bad-T0ken"]);
}

#[test]
fn ecr_helper_signs_get_authorization_token_for_moto() {
    // moto checks the SigV4 signature with IAM on; its token is AWS:<account>-auth-token.
    let moto = testkit::servers::s3::S3Server::start().unwrap();
    let reg = registry("AWS", "123456789012-auth-token", false);
    let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    let at = named(host, &reg.addr);
    let env = |secret: &'static str| {
        vec![
            ("AWS_ACCESS_KEY_ID", moto.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", secret.to_string()),
            ("AWS_ENDPOINT_URL_ECR", moto.endpoint.clone()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    };
    let secret: &'static str = Box::leak(moto.secret_key.clone().into_boxed_str());
    let good = env(secret);
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = build(&at, "t7", Some(host), &good, &[], &[]);
    assert_pushed(&out, &reg, "t7", &[secret, "123456789012-auth-token"]);

    // kaniko's image ships docker-credential-ecr-login: a config naming it uses the
    // built-in, even with the built-ins off.
    let config = format!(r#"{{"credHelpers":{{"{at}":"ecr-login"}}}}"#);
    let files: [(&str, &[u8]); 1] = [("/kaniko/.docker/config.json", config.as_bytes())];
    let out = build(
        &at,
        "t8",
        Some(host),
        &good,
        &files,
        &["--credential-helpers="],
    );
    assert_pushed(&out, &reg, "t8", &[secret]);

    let bad = env("wrong-secret-key");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = build(&at, "t9", Some(host), &bad, &[], &[]);
    assert_failed(
        &out,
        &reg,
        "t9",
        &["credential helper ecr", "403"],
        &["wrong-secret-key"],
    );
}

#[test]
fn google_helper_with_a_service_account_key_and_the_metadata_server() {
    let keys = tempfile::tempdir().unwrap();
    let (private, public) = rsa_key(keys.path(), "sa").unwrap();
    let email = "builder@testkit.iam.gserviceaccount.com";
    let services = TokenServices::start(Accept {
        google_account: Some((email.into(), public)),
        google_token: "ya29.google-access".into(),
        ..Accept::default()
    })
    .unwrap();
    let reg = registry("_token", "ya29.google-access", false);
    let host = "europe-docker.pkg.dev";
    let at = named(host, &reg.addr);
    let sa = service_account_json(email, &private, &format!("{}/google/token", services.url()));
    let files: [(&str, &[u8]); 1] = [("/kaniko/sa.json", sa.as_bytes())];
    let env = [("GOOGLE_APPLICATION_CREDENTIALS", "/kaniko/sa.json")];
    let out = build(&at, "t10", Some(host), &env, &files, &[]);
    assert_pushed(&out, &reg, "t10", &["ya29.google-access", "PRIVATE KEY"]);

    let out = build(
        &at,
        "t11",
        Some(host),
        &[("GCE_METADATA_HOST", &services.addr)],
        &[],
        &[],
    );
    assert_pushed(&out, &reg, "t11", &["ya29.google-access"]);

    // A key the service does not know: its signature is refused.
    let (other, _) = rsa_key(keys.path(), "other").unwrap();
    let sa = service_account_json(email, &other, &format!("{}/google/token", services.url()));
    let files: [(&str, &[u8]); 1] = [("/kaniko/sa.json", sa.as_bytes())];
    let out = build(&at, "t12", Some(host), &env, &files, &[]);
    assert_failed(
        &out,
        &reg,
        "t12",
        &["credential helper google", "400", "invalid_grant"],
        &["PRIVATE KEY"],
    );
}

#[test]
fn acr_helper_exchanges_an_entra_token_at_the_registry() {
    let services = TokenServices::start(Accept {
        aad_tenant: "tenant-1".into(),
        aad_client: "client-1".into(),
        aad_secret: Some("sp-S3cret".into()),
        aad_federated: Some("federated.jwt.token".into()),
        aad_token: "aad-access-token".into(),
        acr_refresh: "acr-refresh-token".into(),
        ..Accept::default()
    })
    .unwrap();
    let reg = registry(
        "00000000-0000-0000-0000-000000000000",
        "acr-refresh-token",
        false,
    );
    // ACR serves /oauth2/exchange on the registry's origin: a proxy in front sends it on.
    let front = FaultProxy::start(&reg.addr).unwrap();
    front.add(Rule::new(
        Some("POST"),
        "/oauth2/exchange",
        usize::MAX,
        Fault::Forward(services.addr.clone()),
    ));
    let host = "myregistry.azurecr.io";
    let at = named(host, &front.addr);
    let mut env = vec![
        ("AZURE_AUTHORITY_HOST", services.url()),
        ("AZURE_TENANT_ID", "tenant-1".into()),
        ("AZURE_CLIENT_ID", "client-1".into()),
    ];
    env.push(("AZURE_CLIENT_SECRET", "sp-S3cret".into()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = build(&at, "t13", Some(host), &pairs, &[], &[]);
    assert_pushed(
        &out,
        &reg,
        "t13",
        &["sp-S3cret", "aad-access-token", "acr-refresh-token"],
    );
    let exchange = services
        .received()
        .into_iter()
        .find(|r| r.path == "/oauth2/exchange")
        .expect("exchange called");
    assert_eq!(exchange.form.get("service").map(String::as_str), Some(host));

    // Workload identity: the federated token file instead of a secret.
    env.pop();
    env.push((
        "AZURE_FEDERATED_TOKEN_FILE",
        "/var/run/secrets/azure/tokens/azure-identity-token".into(),
    ));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let files: [(&str, &[u8]); 1] = [(
        "/var/run/secrets/azure/tokens/azure-identity-token",
        b"federated.jwt.token\n",
    )];
    let out = build(&at, "t14", Some(host), &pairs, &files, &[]);
    assert_eq!(out.status, 0, "{}", out.stderr);

    env.pop();
    env.push(("AZURE_CLIENT_SECRET", "wrong-S3cret".into()));
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = build(&at, "t15", Some(host), &pairs, &[], &[]);
    assert_failed(
        &out,
        &reg,
        "t15",
        &["credential helper acr", "401", "invalid_client"],
        &["wrong-S3cret"],
    );
}
