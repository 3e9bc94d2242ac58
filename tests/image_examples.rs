//! examples/: the Kubernetes Pod and Job validated offline against the Kubernetes API
//! schemas (`kubernetes-validate --strict`, PyPI, schemas bundled), the GitLab CI file
//! against GitLab's schema (`check-jsonschema --builtin-schema vendor.gitlab-ci`), the
//! Tekton Task and the multi-platform Pipeline with IBM's `tekton-lint` (npm
//! `@ibm/tekton-lint`), the Argo WorkflowTemplate and the multi-platform Workflow against the
//! JSON Schema of Argo's CRDs (npm `@kubernetes-models/argo-workflows`, generated from Argo
//! Workflows' CRDs), and each checked for what the executor image expects.
//! tests/containerd.rs runs the GitLab script.

mod common;

use common::image::{python_tool, repo_root, yaml_documents};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn example(rel: &str) -> PathBuf {
    repo_root().join("examples").join(rel)
}

fn validate_k8s(file: &Path) -> Output {
    Command::new(python_tool("kubernetes-validate"))
        .arg("--strict")
        .arg(file)
        .output()
        .expect("kubernetes-validate (installed by .ci/run)")
}

fn validate_gitlab(file: &Path) -> Output {
    Command::new(python_tool("check-jsonschema"))
        .args(["--builtin-schema", "vendor.gitlab-ci"])
        .arg(file)
        .output()
        .expect("check-jsonschema (installed by .ci/run)")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A copy of `file` with `from` replaced by `to`: the validator must reject it.
fn broken(file: &Path, from: &str, to: &str) -> (tempfile::TempDir, PathBuf) {
    let original = std::fs::read_to_string(file).unwrap();
    assert!(original.contains(from), "{from}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(file.file_name().unwrap());
    std::fs::write(&p, original.replacen(from, to, 1)).unwrap();
    (dir, p)
}

fn strs(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The mount path of volume `name` in `container`.
fn mount_of<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["volumeMounts"]
        .as_array()?
        .iter()
        .find(|m| m["name"] == name)
        .and_then(|m| m["mountPath"].as_str())
}

/// The pod spec's volume `name`.
fn volume<'a>(spec: &'a Value, name: &str) -> &'a Value {
    let vols = spec["volumes"].as_array().expect("volumes");
    vols.iter().find(|v| v["name"] == name).expect(name)
}

fn assert_docker_config_secret(spec: &Value, container: &Value) {
    assert_eq!(
        mount_of(container, "docker-config"),
        Some("/kaniko/.docker")
    );
    let item = &volume(spec, "docker-config")["secret"]["items"][0];
    assert_eq!(item["key"], ".dockerconfigjson");
    assert_eq!(item["path"], "config.json");
}

#[test]
fn kubernetes_examples_pass_the_api_schemas() {
    for f in ["kubernetes/pod.yaml", "kubernetes/job.yaml"] {
        let out = validate_k8s(&example(f));
        assert!(out.status.success(), "{f}: {}", text(&out));
        assert!(text(&out).contains("passed"), "{}", text(&out));
    }
    let (_d, bad) = broken(&example("kubernetes/pod.yaml"), "mountPath", "mountpath");
    let out = validate_k8s(&bad);
    assert!(!out.status.success(), "a typo passed: {}", text(&out));
}

#[test]
fn pod_runs_the_executor_with_context_and_credentials() {
    let docs = yaml_documents(&example("kubernetes/pod.yaml"));
    let spec = &docs[0]["spec"];
    let c = &spec["containers"][0];
    assert!(c["image"]
        .as_str()
        .unwrap()
        .ends_with("/kaniko-rs/executor:latest"));
    let args = strs(&c["args"]);
    assert!(args.contains(&"--context=dir:///workspace"), "{args:?}");
    assert!(args.iter().any(|a| a.starts_with("--destination=")));
    assert_eq!(mount_of(c, "context"), Some("/workspace"));
    assert_docker_config_secret(spec, c);
    assert_eq!(spec["restartPolicy"], "Never");
}

#[test]
fn job_warms_a_cache_volume_then_builds() {
    let docs = yaml_documents(&example("kubernetes/job.yaml"));
    let spec = &docs[0]["spec"]["template"]["spec"];
    let warmer = &spec["initContainers"][0];
    assert_eq!(strs(&warmer["command"]), ["/kaniko/warmer"]);
    assert!(strs(&warmer["args"]).contains(&"--cache-dir=/cache"));
    assert_eq!(mount_of(warmer, "cache"), Some("/cache"));
    let c = &spec["containers"][0];
    assert_eq!(warmer["image"], c["image"], "one image holds both");
    let args = strs(&c["args"]);
    assert!(args.contains(&"--cache-dir=/cache"), "{args:?}");
    assert_eq!(mount_of(c, "cache"), Some("/cache"));
    assert_eq!(mount_of(c, "context"), Some("/workspace"));
    assert!(volume(spec, "context")["persistentVolumeClaim"].is_object());
    assert_docker_config_secret(spec, c);
}

#[test]
fn gitlab_job_passes_gitlabs_schema_and_uses_the_debug_image() {
    let file = example("gitlab-ci.yml");
    let out = validate_gitlab(&file);
    assert!(out.status.success(), "{}", text(&out));
    let (_d, bad) = broken(&file, "  script:", "  scirpt:");
    assert!(!validate_gitlab(&bad).status.success());

    let docs = yaml_documents(&file);
    let job = &docs[0]["build"];
    assert!(job["image"]["name"].as_str().unwrap().ends_with(":debug"));
    assert_eq!(job["image"]["entrypoint"], serde_json::json!([""]));
    let script = strs(&job["script"]);
    assert!(script
        .iter()
        .any(|l| l.contains("> /kaniko/.docker/config.json")));
    let exec = script
        .iter()
        .find(|l| l.starts_with("/kaniko/executor"))
        .expect("a /kaniko/executor line");
    for flag in ["--context", "--dockerfile", "--destination"] {
        assert!(exec.contains(flag), "{exec}");
    }
}

/// Where .ci/run installs the Tekton and Argo validators (npm).
const NODE_TOOLS: &str = "/var/lib/kaniko-rs/node";

fn tekton_lint(file: &Path) -> Output {
    Command::new(Path::new(NODE_TOOLS).join("node_modules/.bin/tekton-lint"))
        .args(["--max-warnings", "0", "--color", "false"])
        .arg(file)
        .current_dir(NODE_TOOLS)
        .output()
        .expect("tekton-lint (installed by .ci/run)")
}

/// Validates against the schema of Argo's CRD for the document's kind (`Workflow` or
/// `WorkflowTemplate`; ESM: run from the folder holding the packages so that they resolve).
fn validate_argo(file: &Path) -> Output {
    let script = "import fs from 'fs'; import yaml from 'js-yaml'; \
         import * as argo from '@kubernetes-models/argo-workflows/argoproj.io/v1alpha1'; \
         const doc = yaml.load(fs.readFileSync(process.argv[1], 'utf8')); \
         const Kind = argo[doc.kind]; \
         if (!['Workflow', 'WorkflowTemplate'].includes(doc.kind)) throw new Error('kind ' + doc.kind); \
         new Kind(doc).validate(); \
         console.log('passed');";
    Command::new("node")
        .args(["--input-type=module", "-e", script])
        .arg(file)
        .current_dir(NODE_TOOLS)
        .output()
        .expect("node (installed by .ci/run)")
}

#[test]
fn tekton_task_passes_tekton_lint_and_keeps_the_catalog_s_contract() {
    let file = example("tekton/task.yaml");
    let out = tekton_lint(&file);
    assert!(out.status.success(), "{}", text(&out));
    let (_d, bad) = broken(&file, "$(params.IMAGE)\n", "$(params.IMAGES)\n");
    let out = tekton_lint(&bad);
    assert!(
        !out.status.success(),
        "an undefined param passed: {}",
        text(&out)
    );
    assert!(text(&out).contains("no-undefined-param"), "{}", text(&out));

    let docs = yaml_documents(&file);
    let spec = &docs[0]["spec"];
    assert_eq!(docs[0]["apiVersion"], "tekton.dev/v1");
    let step = &spec["steps"][0];
    let args = strs(&step["args"]);
    // Extra flags as an array: an empty one adds no word.
    assert_eq!(args[0], "$(params.EXTRA_ARGS[*])");
    assert!(
        args.contains(&"--digest-file=$(results.IMAGE_DIGEST.path)"),
        "{args:?}"
    );
    let results: Vec<&str> = spec["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(results, ["IMAGE_DIGEST", "IMAGE_URL"]);
    let config = spec["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == "dockerconfig")
        .unwrap();
    assert_eq!(config["mountPath"], "/kaniko/.docker");
    assert_eq!(step["env"][0]["name"], "KANIKO_TELEMETRY_ENDPOINT");
    // The debug image has the shell the script step needs.
    let script_step = &spec["steps"][1];
    assert!(script_step["image"].as_str().unwrap().ends_with("-debug"));
    assert!(script_step["script"]
        .as_str()
        .unwrap()
        .starts_with("#!/busybox/sh"));
}

#[test]
fn argo_workflow_template_passes_argo_s_crd_schema() {
    let file = example("argo/workflow-template.yaml");
    let out = validate_argo(&file);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("passed"));
    let (_d, bad) = broken(
        &file,
        "          - --context",
        "          - 5\n          - --context",
    );
    let out = validate_argo(&bad);
    assert!(
        !out.status.success(),
        "a number among args passed: {}",
        text(&out)
    );
    assert!(text(&out).contains("must be string"), "{}", text(&out));

    let docs = yaml_documents(&file);
    let spec = &docs[0]["spec"];
    let t = &spec["templates"][0];
    assert_eq!(t["inputs"]["artifacts"][0]["path"], "/workspace");
    let args = strs(&t["container"]["args"]);
    assert!(args.contains(&"--context=dir:///workspace"), "{args:?}");
    assert!(args.contains(&"--digest-file=/tmp/digest"), "{args:?}");
    assert_eq!(
        t["outputs"]["parameters"][0]["valueFrom"]["path"],
        "/tmp/digest"
    );
    assert_eq!(
        mount_of(&t["container"], "docker-config"),
        Some("/kaniko/.docker")
    );
    let item = &volume(spec, "docker-config")["secret"]["items"][0];
    assert_eq!(item["path"], "config.json");
}

/// The builds' platforms, as the fan-out examples place them.
const ARCHES: [&str; 2] = ["amd64", "arm64"];

#[test]
fn argo_multiplatform_workflow_fans_out_per_node_and_fans_in_with_index() {
    let file = example("argo/multiplatform-workflow.yaml");
    let out = validate_argo(&file);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("passed"));
    let (_d, bad) = broken(
        &file,
        "      nodeSelector:\n        kubernetes.io/arch: \"{{inputs.parameters.arch}}\"",
        "      nodeSelector: \"{{inputs.parameters.arch}}\"",
    );
    let out = validate_argo(&bad);
    assert!(
        !out.status.success(),
        "a string nodeSelector passed: {}",
        text(&out)
    );
    assert!(text(&out).contains("must be object"), "{}", text(&out));

    let docs = yaml_documents(&file);
    assert_eq!(docs[0]["kind"], "Workflow");
    let templates = docs[0]["spec"]["templates"].as_array().unwrap();
    let template = |name: &str| templates.iter().find(|t| t["name"] == name).unwrap();
    let tasks = template("main")["dag"]["tasks"].as_array().unwrap();
    for arch in ARCHES {
        let task = tasks
            .iter()
            .find(|t| t["name"] == format!("build-{arch}"))
            .unwrap();
        assert_eq!(task["arguments"]["parameters"][0]["value"], arch);
    }
    let build = template("build");
    assert_eq!(
        build["nodeSelector"]["kubernetes.io/arch"],
        "{{inputs.parameters.arch}}"
    );
    let args = strs(&build["container"]["args"]);
    assert!(
        args.contains(&"--destination={{workflow.parameters.image}}-{{inputs.parameters.arch}}"),
        "{args:?}"
    );
    assert!(args.contains(&"--digest-file=/tmp/digest"), "{args:?}");
    let fan_in = tasks.iter().find(|t| t["name"] == "index").unwrap();
    assert_eq!(fan_in["depends"], "build-amd64 && build-arm64");
    let index = template("index");
    let args = strs(&index["container"]["args"]);
    assert_eq!(args[0], "index", "{args:?}");
    assert!(
        args.contains(&"--destination={{workflow.parameters.image}}"),
        "{args:?}"
    );
    // Each source is the build's tag at the digest that build wrote.
    for (i, arch) in ARCHES.iter().enumerate() {
        let value = fan_in["arguments"]["parameters"][i]["value"]
            .as_str()
            .unwrap();
        assert_eq!(
            value,
            format!("{{{{workflow.parameters.image}}}}-{arch}@{{{{tasks.build-{arch}.outputs.parameters.digest}}}}")
        );
        assert!(args.contains(&format!("{{{{inputs.parameters.{arch}}}}}").as_str()));
    }
    assert_eq!(index["container"]["image"], build["container"]["image"]);
}

#[test]
fn tekton_multiplatform_pipeline_fans_out_per_node_and_fans_in_with_index() {
    let file = example("tekton/multiplatform-pipeline.yaml");
    let out = tekton_lint(&file);
    assert!(out.status.success(), "{}", text(&out));
    let (_d, bad) = broken(
        &file,
        "$(tasks.build-arm64.results.IMAGE_DIGEST)",
        "$(tasks.build-arm64.results.DIGEST)",
    );
    let out = tekton_lint(&bad);
    assert!(
        !out.status.success(),
        "an undefined result passed: {}",
        text(&out)
    );
    assert!(text(&out).contains("no-undefined-result"), "{}", text(&out));

    let docs = yaml_documents(&file);
    let doc = |kind: &str| docs.iter().find(|d| d["kind"] == kind).unwrap();
    let tasks = doc("Pipeline")["spec"]["tasks"].as_array().unwrap();
    let task = |name: &str| tasks.iter().find(|t| t["name"] == name).unwrap();
    let runs = doc("PipelineRun")["spec"]["taskRunSpecs"]
        .as_array()
        .unwrap();
    for arch in ARCHES {
        let name = format!("build-{arch}");
        assert_eq!(
            task(&name)["params"][0]["value"],
            format!("$(params.image)-{arch}")
        );
        let spec = runs.iter().find(|r| r["pipelineTaskName"] == name).unwrap();
        assert_eq!(
            spec["podTemplate"]["nodeSelector"]["kubernetes.io/arch"],
            arch
        );
    }
    let sources = strs(&task("index")["params"][1]["value"]);
    assert_eq!(
        sources,
        [
            "$(params.image)-amd64@$(tasks.build-amd64.results.IMAGE_DIGEST)",
            "$(params.image)-arm64@$(tasks.build-arm64.results.IMAGE_DIGEST)",
        ]
    );
    let index_task = docs
        .iter()
        .find(|d| d["kind"] == "Task" && d["metadata"]["name"] == "kaniko-rs-index")
        .unwrap();
    let args = strs(&index_task["spec"]["steps"][0]["args"]);
    assert_eq!(
        args,
        [
            "index",
            "--destination=$(params.image)",
            "--digest-file=$(results.IMAGE_DIGEST.path)",
            "$(params.sources[*])",
        ]
    );
}
