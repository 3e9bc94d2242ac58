//! The command lines real CI tools generate, replayed in the pod sandbox laid out as each
//! tool lays out its Pod or step, and the files each tool reads afterwards. Each argv is
//! written as the tool's source builds it (the source is named above it); the one thing
//! added to every line is `--insecure --insecure-pull`, because the test registry speaks
//! plain HTTP on loopback.

mod common;
use common::*;
use std::path::Path;
use testkit::registry::Registry;
use testkit::sandbox::{Output, Sandbox};

const DOCKERFILE: &str = "FROM {reg}/library/busybox:latest\n\
     ARG http_proxy\n\
     RUN echo \"proxy=$http_proxy\" > /proxy\n\
     COPY app.txt /app.txt\n";

fn project(reg: &Registry) -> tempfile::TempDir {
    context(&[
        ("Dockerfile", &DOCKERFILE.replace("{reg}", &reg.addr)),
        ("app.txt", "app\n"),
    ])
}

/// Runs `argv` (plus plain HTTP to the loopback registry) in `sb`.
fn replay(sb: &Sandbox, argv: &[&str]) -> Output {
    let mut args = argv.to_vec();
    args.extend(["--insecure", "--insecure-pull"]);
    sb.run(&args).expect("run sandbox")
}

fn ok(out: &Output) {
    assert_eq!(out.status, 0, "{}", out.stderr);
}

/// The digest the registry has for `repo:tag`.
fn pushed(reg: &Registry, reference: &str) -> String {
    let i = testkit::images::inspect(&reg.addr, reference).expect("the image was pushed");
    i["Digest"].as_str().unwrap_or_default().to_string()
}

fn sandbox() -> Sandbox {
    Sandbox::new(&executor()).expect("sandbox")
}

/// Tekton catalog `task/kaniko/0.3/kaniko.yaml`: `EXTRA_ARGS` is a string parameter with
/// default `""`, passed as the first arg, so an unset one is an empty word; the source
/// workspace is at /workspace/source, the step's workingDir; the next step
/// (imagedigestexporter) reads the digest from the OCI layout's index.json.
#[test]
fn tekton_catalog_task_0_3_with_empty_extra_args() {
    let reg = registry_with_busybox();
    let src = project(&reg);
    let mut sb = sandbox();
    sb.bind(src.path(), "/workspace/source");
    let image = format!("{}/tekton/app:1", reg.addr);
    let out = replay(
        &sb,
        &[
            "",
            "--dockerfile=./Dockerfile",
            "--context=/workspace/source/./",
            &format!("--destination={image}"),
            "--oci-layout-path=/workspace/source/.//image-digest",
        ],
    );
    ok(&out);
    let index = std::fs::read_to_string(src.path().join("image-digest/index.json")).unwrap();
    let index: serde_json::Value = serde_json::from_str(&index).unwrap();
    assert_eq!(
        index["manifests"][0]["digest"],
        pushed(&reg, "tekton/app:1")
    );
}

/// Tekton catalog `task/kaniko/0.6/kaniko.yaml`: `EXTRA_ARGS` an array (default `[]`, no
/// word at all), `--digest-file=$(results.IMAGE_DIGEST.path)` read by Tekton Chains as the
/// `IMAGE_DIGEST` result.
#[test]
fn tekton_catalog_task_0_6_writes_the_digest_result() {
    let reg = registry_with_busybox();
    let src = project(&reg);
    let results = tempfile::tempdir().unwrap();
    let mut sb = sandbox();
    sb.bind(src.path(), "/workspace/source")
        .bind(results.path(), "/tekton/results");
    let image = format!("{}/tekton/chains:1", reg.addr);
    let out = replay(
        &sb,
        &[
            "--dockerfile=./Dockerfile",
            "--context=/workspace/source/./",
            &format!("--destination={image}"),
            "--digest-file=/tekton/results/IMAGE_DIGEST",
        ],
    );
    ok(&out);
    let digest = std::fs::read_to_string(results.path().join("IMAGE_DIGEST")).unwrap();
    assert_eq!(digest, pushed(&reg, "tekton/chains:1"));
}

/// GitLab's documented job (docs.gitlab.com/ci/docker/using_kaniko, "Build and push an
/// image", and "Building an image with kaniko behind a proxy"): the script runs
/// `/kaniko/executor --context "${CI_PROJECT_DIR}" --dockerfile "${CI_PROJECT_DIR}/Dockerfile"
/// --destination "${CI_REGISTRY_IMAGE}:${CI_COMMIT_TAG}"`, the proxy recipe adds
/// `--build-arg http_proxy=$http_proxy` (and https_proxy, no_proxy) unquoted: without proxy
/// variables each is `http_proxy=` (an empty value, not an empty word).
#[test]
fn gitlab_recipe_with_and_without_proxy_variables() {
    let reg = registry_with_busybox();
    let src = project(&reg);
    for (tag, proxy) in [
        ("plain", None),
        ("noproxy", Some("")),
        ("proxy", Some("http://proxy.example:3128")),
    ] {
        let mut sb = sandbox();
        sb.bind(src.path(), "/builds/group/project");
        let dest = format!("{}/group/project:{tag}", reg.addr);
        let mut argv = vec![
            "--context".to_string(),
            "/builds/group/project".into(),
            "--dockerfile".into(),
            "/builds/group/project/Dockerfile".into(),
            "--destination".into(),
            dest.clone(),
        ];
        if let Some(p) = proxy {
            for var in ["http_proxy", "https_proxy", "no_proxy"] {
                let value = if var == "no_proxy" { "" } else { p };
                argv.extend(["--build-arg".into(), format!("{var}={value}")]);
            }
        }
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        ok(&replay(&sb, &argv));
        let seen = run_image(
            &reg,
            &format!("group/project:{tag}"),
            Some(&["cat".into(), "/proxy".into()]),
        );
        assert_eq!(seen.trim(), format!("proxy={}", proxy.unwrap_or("")));
    }
}

/// The Woodpecker plugin (woodpecker-ci/plugin-kaniko `plugin.sh`): `"${CACHE:-}"
/// "${CACHE_TTL:-}" "${CACHE_REPO:-}" "${TARGET:-}"` and `"${MIRROR:-}"` are quoted, so
/// every unset setting is an empty word (five here); `${EXTRA_OPTS}` and the other
/// unquoted ones vanish; the context is the clone directory (`$PWD`).
#[test]
fn woodpecker_plugin_with_five_empty_words() {
    let reg = registry_with_busybox();
    let src = project(&reg);
    let mut sb = sandbox();
    sb.bind(src.path(), "/woodpecker/src/repo");
    let dest = format!("--destination={}/test/woodpecker:latest", reg.addr);
    let out = replay(
        &sb,
        &[
            "-v",
            "info",
            "--context=/woodpecker/src/repo",
            "--dockerfile=Dockerfile",
            &dest,
            "",
            "",
            "",
            "",
            "",
        ],
    );
    ok(&out);
    pushed(&reg, "test/woodpecker:latest");
}

/// Skaffold's in-cluster kaniko builder (skaffold `pkg/skaffold/build/kaniko/args.go`,
/// and the common args its tests expect: `--dockerfile Dockerfile --context
/// dir:///kaniko/buildcontext --destination TAG -v info`): its init container copies the
/// context to /kaniko/buildcontext; afterwards Skaffold asks the registry for the digest.
#[test]
fn skaffold_cluster_builder() {
    let reg = registry_with_busybox();
    let src = project(&reg);
    let mut sb = sandbox();
    sb.bind(src.path(), "/kaniko/buildcontext");
    let tag = format!("{}/skaffold/app:v1", reg.addr);
    let out = replay(
        &sb,
        &[
            "--dockerfile",
            "Dockerfile",
            "--context",
            "dir:///kaniko/buildcontext",
            "--destination",
            &tag,
            "-v",
            "info",
        ],
    );
    ok(&out);
    pushed(&reg, "skaffold/app:v1");
}

/// Google Cloud Build's kaniko step (cloud.google.com/build/docs "Using Kaniko cache":
/// `args: ["--destination=…", "--cache=true", "--cache-ttl=XXh"]`): the source is at
/// /workspace (kaniko's default context), `BUILDER_OUTPUT=/builder/outputs`, and Cloud Build
/// (and Skaffold's Cloud Build mode) read `$BUILDER_OUTPUT/images`; a failed build leaves
/// none.
#[test]
fn cloud_build_step_writes_builder_output_images_after_the_push() {
    let reg = registry_with_busybox();
    let src = project(&reg);
    let outputs = tempfile::tempdir().unwrap();
    let mut sb = sandbox();
    sb.context(src.path())
        .bind(outputs.path(), "/builder/outputs")
        .env("BUILDER_OUTPUT", "/builder/outputs");
    let first = format!("{}/project/image", reg.addr);
    let second = format!("{}/project/image:v2", reg.addr);
    let out = replay(
        &sb,
        &[
            &format!("--destination={first}"),
            &format!("--destination={second}"),
            "--cache=true",
            "--cache-ttl=6h",
        ],
    );
    ok(&out);
    let digest = pushed(&reg, "project/image:v2");
    let images = std::fs::read_to_string(outputs.path().join("images")).unwrap();
    assert_eq!(
        images,
        format!(
            "{{\"name\":\"{first}\",\"digest\":\"{digest}\"}}\n{{\"name\":\"{second}\",\"digest\":\"{digest}\"}}\n"
        )
    );

    // A build that fails writes no images file.
    std::fs::remove_file(outputs.path().join("images")).unwrap();
    std::fs::write(
        src.path().join("Dockerfile"),
        format!("FROM {}/library/busybox:latest\nRUN exit 3\n", reg.addr),
    )
    .unwrap();
    let out = replay(&sb, &[&format!("--destination={first}")]);
    assert_eq!(out.status, 3, "{}", out.stderr);
    assert!(!outputs.path().join("images").exists());
}

/// Shipwright's kaniko ClusterBuildStrategy (shipwright-io/build
/// `samples/v1beta1/buildstrategy/kaniko/buildstrategy_kaniko_cr.yaml`): HOME and
/// DOCKER_CONFIG under /tekton/home, `AWS_ACCESS_KEY_ID=NOT_SET`, `--no-push --tar-path
/// $(params.shp-output-directory)/image.tar`; Shipwright's image-processing step then reads
/// the tarball and pushes it.
#[test]
fn shipwright_strategy_writes_the_tarball_it_pushes() {
    let reg = registry_with_busybox();
    let src = project(&reg);
    let output = tempfile::tempdir().unwrap();
    let mut sb = sandbox();
    sb.bind(src.path(), "/workspace/source")
        .bind(output.path(), "/workspace/output-image")
        .env("HOME", "/tekton/home")
        .env("DOCKER_CONFIG", "/tekton/home/.docker")
        .env("AWS_ACCESS_KEY_ID", "NOT_SET")
        .env("AWS_SECRET_KEY", "NOT_SET");
    let image = format!("{}/shipwright/app:1", reg.addr);
    let out = replay(
        &sb,
        &[
            "--dockerfile",
            "Dockerfile",
            "--context",
            "/workspace/source",
            "--destination",
            &image,
            "--snapshot-mode",
            "redo",
            "--no-push",
            "--tar-path",
            "/workspace/output-image/image.tar",
            "--ignore-path",
            "/product_uuid",
        ],
    );
    ok(&out);
    assert!(!exists(&reg, "shipwright/app:1"), "--no-push pushed");
    let tar = output.path().join("image.tar");
    let manifest = read_tar_member(&tar, "manifest.json");
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(manifest[0]["RepoTags"][0], image.as_str());
}

/// A GitHub Actions wrapper (int128/kaniko-action `src/run.ts`): `docker run` with the
/// context at /workspace (read-only), an output directory at /output and the runner's
/// Docker config; `--context dir:///workspace/ --dockerfile … --digest-file /output/digest
/// --destination … --cache=true --cache-repo …`; the action reads /output/digest as its
/// `digest` output.
#[test]
fn github_action_wrapper_reads_the_digest_file() {
    let reg = registry_with_busybox();
    let src = project(&reg);
    let output = tempfile::tempdir().unwrap();
    let mut sb = sandbox();
    sb.context(src.path()).bind(output.path(), "/output");
    let tag = format!("{}/gha/app:sha-1", reg.addr);
    let cache = format!("{}/gha/app/cache", reg.addr);
    let out = replay(
        &sb,
        &[
            "--context",
            "dir:///workspace/",
            "--dockerfile",
            "Dockerfile",
            "--digest-file",
            "/output/digest",
            "--destination",
            &tag,
            "--cache=true",
            "--cache-repo",
            &cache,
        ],
    );
    ok(&out);
    let digest = std::fs::read_to_string(output.path().join("digest")).unwrap();
    assert_eq!(digest.trim(), pushed(&reg, "gha/app:sha-1"));
}

/// A non-empty stray word still fails, with kaniko's message (an old gcloud passing
/// `--cache true` as two words).
#[test]
fn a_stray_word_fails_as_kaniko_fails() {
    let reg = registry_with_busybox();
    let src = project(&reg);
    let mut sb = sandbox();
    sb.context(src.path());
    let dest = format!("--destination={}/stray/app:1", reg.addr);
    let out = replay(&sb, &[&dest, "--cache", "true"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr
            .contains("Error: unknown command \"true\" for \"executor\"")
            && out.stderr.contains("Run 'executor --help' for usage."),
        "{}",
        out.stderr
    );
    assert!(!exists(&reg, "stray/app:1"));
}

fn read_tar_member(tar: &Path, name: &str) -> Vec<u8> {
    let out = std::process::Command::new("tar")
        .arg("-xOf")
        .arg(tar)
        .arg(name)
        .output()
        .expect("tar");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
