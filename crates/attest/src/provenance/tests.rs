//! The predicates of one build record, in both versions and modes.

use super::*;
use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

fn record(mode: Mode, git: bool) -> BuildRecord {
    BuildRecord {
        builder_id: "pkg:generic/kaniko-rs@0.1.0".into(),
        builder_version: BTreeMap::from([("kaniko-rs".into(), "0.1.0".into())]),
        invocation_id: "abc".into(),
        started_on: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        finished_on: UNIX_EPOCH + Duration::from_secs(1_700_000_060),
        mode,
        dockerfile: Dockerfile {
            path: "Dockerfile".into(),
            location: "/workspace/Dockerfile".into(),
            sha256: "ab".repeat(32),
            text: "FROM busybox\n".into(),
        },
        context: Context {
            uri: if git {
                "git://git.example/app.git".into()
            } else {
                "dir:///workspace".into()
            },
            local: !git,
            digest: if git {
                ContextDigest::GitCommit("c".repeat(40))
            } else {
                ContextDigest::Sha256("d".repeat(64))
            },
        },
        build_args: BTreeMap::from([("VERSION".into(), "1.2".into())]),
        labels: BTreeMap::new(),
        target: Some("app".into()),
        platform: "linux/amd64".into(),
        builder_platform: "linux/amd64".into(),
        secrets: vec![SecretUse {
            id: "tok".into(),
            optional: false,
        }],
        ssh: Vec::new(),
        dependencies: vec![Dependency::Image {
            name: purl::ImageName {
                registry: "index.docker.io".into(),
                repository: "library/busybox".into(),
                tag: Some("latest".into()),
                digest: None,
            },
            platform: Some("linux/amd64".into()),
            digest: format!("sha256:{}", "e".repeat(64)),
        }],
        reproducible: false,
        network: true,
        steps: Vec::new(),
    }
}

#[test]
fn v02_min_leaves_out_args_and_secrets() {
    let p = predicate(&record(Mode::Min, true), SlsaVersion::V02);
    assert_eq!(p["buildType"], BUILD_TYPE_V02);
    let source = &p["invocation"]["configSource"];
    assert_eq!(source["digest"]["sha1"], "c".repeat(40));
    assert_eq!(source["uri"], "git://git.example/app.git");
    assert_eq!(source["entryPoint"], "Dockerfile");
    let args = &p["invocation"]["parameters"]["args"];
    assert_eq!(args["target"], "app");
    assert!(args.get("build-arg:VERSION").is_none());
    assert!(p["invocation"]["parameters"].get("secrets").is_none());
    assert_eq!(p["metadata"]["completeness"]["parameters"], false);
    assert_eq!(p["metadata"]["buildStartedOn"], "2023-11-14T22:13:20Z");
    assert_eq!(
        p["materials"][0]["uri"],
        "pkg:docker/busybox@latest?platform=linux%2Famd64"
    );
    assert_eq!(p["materials"][0]["digest"]["sha256"], "e".repeat(64));
}

#[test]
fn v1_max_has_args_secret_ids_and_the_dockerfile() {
    let p = predicate(&record(Mode::Max, false), SlsaVersion::V1);
    let def = &p["buildDefinition"];
    assert_eq!(def["buildType"], BUILD_TYPE_V1);
    let req = &def["externalParameters"]["request"];
    assert_eq!(req["args"]["build-arg:VERSION"], "1.2");
    assert_eq!(req["secrets"][0]["id"], "tok");
    let deps = def["resolvedDependencies"].as_array().unwrap();
    assert!(deps
        .iter()
        .any(|d| d["uri"] == "dir:///workspace" && d["digest"]["sha256"] == "d".repeat(64)));
    assert!(deps
        .iter()
        .any(|d| d["uri"] == "file:///workspace/Dockerfile"));
    assert_eq!(
        p["runDetails"]["builder"]["id"],
        "pkg:generic/kaniko-rs@0.1.0"
    );
    let source = &p["runDetails"]["metadata"]["buildkit_metadata"]["source"];
    assert_eq!(source["infos"][0]["filename"], "Dockerfile");
}
