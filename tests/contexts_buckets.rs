//! Bucket contexts against real servers on loopback: S3 (moto, with IAM signatures
//! checked), Google Cloud Storage (gcp-storage-emulator) and Azure Blob Storage (Azurite).
//! Each builds the shared context, refuses wrong credentials and names a missing object in
//! one line; credentials never reach the trace-level log.

mod common;
mod remote;

use common::*;
use remote::*;
use testkit::servers::{azure, gcs, s3};

fn s3_env<'a>(s: &'a s3::S3Server, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AWS_ACCESS_KEY_ID", s.access_key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_REGION", "us-east-1"),
        ("S3_ENDPOINT", s.endpoint.as_str()),
        ("S3_FORCE_PATH_STYLE", "true"),
    ]
}

#[test]
fn s3_env_credentials_shared_file_and_sub_path() {
    let reg = registry_with_busybox();
    let s = s3::S3Server::start().unwrap();
    s.put(
        "ctx-bucket",
        "app/ctx.tar.gz",
        &context_tar_gz(&reg, "from s3", ""),
    )
    .unwrap();
    s.put(
        "ctx-bucket",
        "nested.tar.gz",
        &context_tar_gz(&reg, "from a sub path", "sub/dir"),
    )
    .unwrap();
    let secrets = [s.secret_key.as_str()];
    let env = s3_env(&s, &s.secret_key);
    let (_sb, out) = build(&reg, "s3://ctx-bucket/app/ctx.tar.gz", &env, &[], "s3:1");
    assert_built(&reg, &out, "s3:1", "from s3", &secrets);

    let (_sb, out) = build(
        &reg,
        "s3://ctx-bucket/nested.tar.gz",
        &env,
        &["--context-sub-path", "sub/dir"],
        "s3:2",
    );
    assert_built(&reg, &out, "s3:2", "from a sub path", &secrets);

    // The shared credentials file, as AWS's SDKs read it from $HOME/.aws.
    let file = format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        s.access_key, s.secret_key
    );
    let env = [
        ("S3_ENDPOINT", s.endpoint.as_str()),
        ("S3_FORCE_PATH_STYLE", "true"),
    ];
    let files = [("/root/.aws/credentials", file.as_bytes())];
    let (_sb, out) = build_with(
        &reg,
        "s3://ctx-bucket/app/ctx.tar.gz",
        &env,
        &files,
        &[],
        "s3:3",
    );
    assert_built(&reg, &out, "s3:3", "from s3", &secrets);
}

#[test]
fn s3_failures() {
    let reg = registry_with_busybox();
    let s = s3::S3Server::start().unwrap();
    // kaniko's default object name, read when the URL names none.
    s.put(
        "ctx-bucket",
        "context.tar.gz",
        &context_tar_gz(&reg, "x", ""),
    )
    .unwrap();
    let env = s3_env(&s, "Wr0ngSecretKey1234567890");
    let (_sb, out) = build(&reg, "s3://ctx-bucket/context.tar.gz", &env, &[], "s3bad:1");
    assert_fails(
        &reg,
        &out,
        "s3bad:1",
        &[
            "s3://ctx-bucket/context.tar.gz",
            "access denied",
            "SignatureDoesNotMatch",
            "AWS_SECRET_ACCESS_KEY",
        ],
        &["Wr0ngSecretKey1234567890"],
    );
    let env = s3_env(&s, &s.secret_key);
    let secrets = [s.secret_key.as_str()];
    let (_sb, out) = build(&reg, "s3://ctx-bucket/missing.tar.gz", &env, &[], "s3bad:2");
    assert_fails(
        &reg,
        &out,
        "s3bad:2",
        &["s3://ctx-bucket/missing.tar.gz", "no such object"],
        &secrets,
    );
    let (_sb, out) = build(&reg, "s3://no-bucket/ctx.tar.gz", &env, &[], "s3bad:3");
    assert_fails(&reg, &out, "s3bad:3", &["no such bucket"], &secrets);
    let closed = format!(
        "http://127.0.0.1:{}",
        testkit::registry::free_port().unwrap()
    );
    let mut env_closed = env.clone();
    env_closed.retain(|(k, _)| *k != "S3_ENDPOINT");
    env_closed.push(("S3_ENDPOINT", &closed));
    let (_sb, out) = build(&reg, "s3://ctx-bucket", &env_closed, &[], "s3bad:5");
    assert_fails(&reg, &out, "s3bad:5", &["cannot reach", &closed], &secrets);
    let (_sb, out) = build(&reg, "s3://ctx-bucket", &env, &[], "s3bad:4");
    assert_built(&reg, &out, "s3bad:4", "x", &secrets);
}

#[test]
fn gcs_emulator() {
    let reg = registry_with_busybox();
    let g = gcs::GcsServer::start().unwrap();
    g.put(
        "ctxbucket",
        "app/ctx.tar.gz",
        &context_tar_gz(&reg, "from gcs", ""),
    )
    .unwrap();
    let env = [("STORAGE_EMULATOR_HOST", g.host.as_str())];
    let (_sb, out) = build(&reg, "gs://ctxbucket/app/ctx.tar.gz", &env, &[], "gcs:1");
    assert_built(&reg, &out, "gcs:1", "from gcs", &[]);
    let (_sb, out) = build(
        &reg,
        "gs://ctxbucket/app/missing.tar.gz",
        &env,
        &[],
        "gcs:2",
    );
    assert_fails(
        &reg,
        &out,
        "gcs:2",
        &["gs://ctxbucket/app/missing.tar.gz", "no such object"],
        &[],
    );
    // A service-account file whose key is not a key: refused before any request.
    let key = r#"{"type": "service_account", "client_email": "ci@p.iam.gserviceaccount.com", "private_key_id": "1", "private_key": "-----BEGIN PRIVATE KEY-----\nbm90LWEta2V5LXNlY3JldA==\n-----END PRIVATE KEY-----\n"}"#;
    let env = [
        ("STORAGE_EMULATOR_HOST", g.host.as_str()),
        ("GOOGLE_APPLICATION_CREDENTIALS", "/kaniko/sa.json"),
    ];
    let files = [("/kaniko/sa.json", key.as_bytes())];
    let (_sb, out) = build_with(
        &reg,
        "gs://ctxbucket/app/ctx.tar.gz",
        &env,
        &files,
        &[],
        "gcs:3",
    );
    assert_fails(
        &reg,
        &out,
        "gcs:3",
        &["GOOGLE_APPLICATION_CREDENTIALS", "not a valid"],
        &["bm90LWEta2V5LXNlY3JldA"],
    );
}

#[test]
fn azure_blob_through_azurite() {
    let reg = registry_with_busybox();
    let a = azure::AzureServer::start().unwrap();
    a.put(
        "ctx",
        "app/ctx.tar.gz",
        &context_tar_gz(&reg, "from azure", ""),
    )
    .unwrap();
    let url = format!(
        "https://{}.blob.core.windows.net/ctx/app/ctx.tar.gz",
        azure::ACCOUNT
    );
    // The connection string points the URL at Azurite; the key comes from kaniko's variable.
    let conn = format!(
        "AccountName={};BlobEndpoint={}",
        azure::ACCOUNT,
        a.blob_endpoint
    );
    let env = [
        ("AZURE_STORAGE_CONNECTION_STRING", conn.as_str()),
        ("AZURE_STORAGE_ACCESS_KEY", azure::KEY),
    ];
    let (_sb, out) = build(&reg, &url, &env, &[], "az:1");
    assert_built(&reg, &out, "az:1", "from azure", &[azure::KEY]);
    let wrong = "d3JvbmctYWNjb3VudC1rZXktZm9yLWF6dXJpdGUtdGVzdHM=";
    let env = [
        ("AZURE_STORAGE_CONNECTION_STRING", conn.as_str()),
        ("AZURE_STORAGE_ACCESS_KEY", wrong),
    ];
    let (_sb, out) = build(&reg, &url, &env, &[], "az:2");
    assert_fails(
        &reg,
        &out,
        "az:2",
        &["access denied", "AZURE_STORAGE_ACCESS_KEY"],
        &[wrong],
    );
    let env = [(
        "AZURE_STORAGE_CONNECTION_STRING",
        a.connection_string(azure::KEY),
    )];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let missing = url.replace("ctx.tar.gz", "missing.tar.gz");
    let (_sb, out) = build(&reg, &missing, &env, &[], "az:3");
    assert_fails(
        &reg,
        &out,
        "az:3",
        &["missing.tar.gz", "no such object"],
        &[azure::KEY],
    );
    let (_sb, out) = build(&reg, &url, &[], &[], "az:4");
    assert_fails(
        &reg,
        &out,
        "az:4",
        &["AZURE_STORAGE_ACCESS_KEY environment variable is not set"],
        &[],
    );
}
