//! moto's S3 server (`python3 -m moto.server`) with IAM authentication on: after the three
//! unauthenticated set-up calls that make a user, its access key and its policy, every
//! request must be signed with that key, so wrong credentials are refused as on AWS.

use super::{python, python_with_file, Process};
use crate::registry::free_port;
use anyhow::Result;
use std::process::Command;

pub struct S3Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    _process: Process,
}

/// Makes the user, key and policy; prints "key secret".
const SETUP: &str = r#"
import sys, json, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="setup", aws_secret_access_key="setup")
iam.create_user(UserName="ci")
k = iam.create_access_key(UserName="ci")["AccessKey"]
doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
iam.put_user_policy(UserName="ci", PolicyName="all", PolicyDocument=json.dumps(doc))
print(k["AccessKeyId"], k["SecretAccessKey"])
"#;

/// Uploads stdin-less: argv endpoint key secret bucket name file; makes the bucket if new.
const PUT: &str = r#"
import sys, boto3
ep, key, secret, bucket, name, path = sys.argv[1:7]
s3 = boto3.client("s3", endpoint_url=ep, region_name="us-east-1",
                  aws_access_key_id=key, aws_secret_access_key=secret)
if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
    s3.create_bucket(Bucket=bucket)
s3.upload_file(path, bucket, name)
"#;

impl S3Server {
    pub fn start() -> Result<S3Server> {
        let dir = tempfile::Builder::new().prefix("moto-").tempdir()?;
        let port = free_port()?;
        let mut cmd = Command::new("python3");
        cmd.args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", "3");
        let process = Process::spawn(cmd, dir, port)?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let keys = python(SETUP, &[&endpoint])?;
        let mut it = keys.split_whitespace();
        let (access_key, secret_key) = match (it.next(), it.next()) {
            (Some(a), Some(s)) => (a.to_string(), s.to_string()),
            _ => anyhow::bail!("moto set-up printed {keys:?}"),
        };
        Ok(S3Server {
            endpoint,
            access_key,
            secret_key,
            _process: process,
        })
    }

    /// Stores `bytes` as `bucket/name`, making the bucket if needed.
    pub fn put(&self, bucket: &str, name: &str, bytes: &[u8]) -> Result<()> {
        self.put_signed(&self.secret_key, bucket, name, bytes)
    }

    /// Like [`put`](Self::put), signing with `secret` instead of the real secret key.
    pub fn put_signed(&self, secret: &str, bucket: &str, name: &str, bytes: &[u8]) -> Result<()> {
        let args = [
            self.endpoint.as_str(),
            &self.access_key,
            secret,
            bucket,
            name,
        ];
        python_with_file(PUT, &args, bytes)?;
        Ok(())
    }
}
