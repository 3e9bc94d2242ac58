//! The warmer (`warmer`, `executor warmer`) and base images from `--cache-dir`, in the pod
//! sandbox against the real registry: warmed images are OCI layouts skopeo reads, a build
//! with `--cache` takes its base from them when the base's registry is gone, concurrent
//! warmers leave one whole entry, `--force`, `--cache-ttl` and `--dockerfile`.

mod common;
use common::*;
use testkit::registry::{Auth, Registry};
use testkit::sandbox::{Output, Sandbox};

fn sandbox(ctx: &std::path::Path) -> Sandbox {
    let mut sb = Sandbox::new(&executor()).unwrap();
    sb.context(ctx);
    sb
}

/// Runs `executor warmer ARGS`; asserts success and returns the log.
fn warm(sb: &Sandbox, args: &[&str]) -> String {
    let mut all = vec!["warmer", "--insecure-pull", "--cache-dir", "/cache"];
    all.extend_from_slice(args);
    let out = sb.run(&all).unwrap();
    assert_eq!(out.status, 0, "warmer failed:\n{}", out.stderr);
    out.stderr
}

/// The cache directory's entries (names), hidden ones included.
fn entries(sb: &Sandbox) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(sb.root().join("cache"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn build(sb: &Sandbox, dest: &str, extra: &[&str]) -> Output {
    let mut args = vec!["--destination", dest];
    args.extend_from_slice(extra);
    build_in(sb, &args)
}

#[test]
fn a_warmed_base_builds_without_its_registry() {
    let base = registry_with_busybox();
    let out_reg = Registry::start(Auth::None, false).unwrap();
    let image = format!("{}/library/busybox:latest", base.addr);
    let ctx = context(&[("Dockerfile", &format!("FROM {image}\nRUN echo hi > /hi\n"))]);
    let sb = sandbox(ctx.path());
    // Called as `warmer`, through a link named so.
    std::os::unix::fs::symlink("executor", sb.root().join("kaniko/warmer")).unwrap();
    let args = [
        "--image",
        image.as_str(),
        "--cache-dir",
        "/cache",
        "--insecure-pull",
    ];
    let out = sb.run_program("/kaniko/warmer", &args, None).unwrap();
    assert_eq!(out.status, 0, "{}", out.stderr);
    let names = entries(&sb);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("sha256-"), "{names:?}");
    let layout = sb.root().join("cache").join(&names[0]);
    let inspect = std::process::Command::new("skopeo")
        .arg("inspect")
        .arg(format!("oci:{}:{image}", layout.display()))
        .output()
        .unwrap();
    assert!(
        inspect.status.success(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );

    drop(base);
    let dest = |t: &str| format!("{}/t/warm:{t}", out_reg.addr);
    let out = build(&sb, &dest("0"), &[]);
    assert_ne!(
        out.status, 0,
        "the base registry still answers:\n{}",
        out.stderr
    );

    let out = build(&sb, &dest("1"), &["--cache=true", "--cache-dir=/cache"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains("cannot be reached"), "{}", out.stderr);
    assert!(out.stderr.contains("in local cache"), "{}", out.stderr);
    let hi = run_image(&out_reg, "t/warm:1", Some(&["cat".into(), "/hi".into()]));
    assert_eq!(hi, "hi\n");

    // By digest, the cached copy needs no registry at all, so no warning either.
    let by_digest = image.replace(":latest", &format!("@{}", names[0].replace('-', ":")));
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!("FROM {by_digest}\nRUN true\n"),
    )
    .unwrap();
    let out = build(&sb, &dest("2"), &["--cache=true", "--cache-dir=/cache"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("cannot be reached"), "{}", out.stderr);

    // An expired copy is not used.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let out = build(&sb, &dest("3"), &["--cache=true", "--cache-ttl=1s"]);
    assert_ne!(out.status, 0, "an expired base was used:\n{}", out.stderr);
}

#[test]
fn warmers_share_a_directory_force_and_ttl_refresh() {
    let base = registry_with_busybox();
    let image = format!("{}/library/busybox:latest", base.addr);
    let ctx = context(&[]);
    let sb = sandbox(ctx.path());
    let args = [
        "warmer",
        "--insecure-pull",
        "--cache-dir",
        "/cache",
        "-i",
        image.as_str(),
    ];
    let running: Vec<_> = (0..3).map(|_| sb.spawn(&args).unwrap()).collect();
    for r in running {
        let out = r.wait().unwrap();
        assert_eq!(out.status, 0, "{}", out.stderr);
    }
    let names = entries(&sb);
    assert_eq!(names.len(), 1, "leftovers: {names:?}");

    let log = warm(&sb, &["-i", &image]);
    assert!(log.contains("Image already in cache"), "{log}");
    let written = |sb: &Sandbox| {
        let marker = sb.root().join("cache").join(&names[0]).join("oci-layout");
        std::fs::metadata(marker).unwrap().modified().unwrap()
    };
    let t0 = written(&sb);
    let log = warm(&sb, &["-i", &image, "--force"]);
    assert!(log.contains("Wrote"), "{log}");
    let t1 = written(&sb);
    assert!(t1 > t0);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let log = warm(&sb, &["-i", &image, "--cache-ttl=1s"]);
    assert!(log.contains("Wrote"), "an expired entry was kept:\n{log}");
    assert!(written(&sb) > t1);
    assert_eq!(entries(&sb), names);
}

#[test]
fn the_dockerfile_names_what_to_warm() {
    let base = registry_with_busybox();
    testkit::images::push_busybox(&base.addr, "other/box:2").unwrap();
    let df = format!(
        "ARG TAG=1\nFROM {r}/library/busybox:latest AS one\nFROM one\nFROM scratch\nFROM {r}/other/box:$TAG\n",
        r = base.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let sb = sandbox(ctx.path());
    let log = warm(
        &sb,
        &[
            "--dockerfile",
            "/workspace/Dockerfile",
            "--build-arg",
            "TAG=2",
        ],
    );
    assert!(log.contains("other/box:2"), "{log}");
    let index: String = entries(&sb)
        .iter()
        .map(|n| std::fs::read_to_string(sb.root().join("cache").join(n).join("index.json")))
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        index.contains("library/busybox:latest") && index.contains("other/box:2"),
        "{index}"
    );
    assert!(
        !index.contains("scratch") && !index.contains("\"one\""),
        "{index}"
    );
    // A missing image alone fails the run.
    let out = sb
        .run(&[
            "warmer",
            "--insecure-pull",
            "-c",
            "/cache",
            "-i",
            &format!("{}/no/such:1", base.addr),
        ])
        .unwrap();
    assert_ne!(out.status, 0);
    assert!(
        out.stderr
            .contains("Failed to warm any of the given images"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_registry_answering_503_falls_back_to_the_warmed_copy() {
    let base = registry_with_busybox();
    let proxy = testkit::proxy::FaultProxy::start(&base.addr).unwrap();
    let image = format!("{}/library/busybox:latest", proxy.addr);
    let ctx = context(&[("Dockerfile", &format!("FROM {image}\nRUN echo hi > /hi\n"))]);
    let sb = sandbox(ctx.path());
    warm(&sb, &["--image", &image]);
    let unavailable = testkit::proxy::Fault::Status {
        code: 503,
        retry_after: None,
    };
    proxy.add(testkit::proxy::Rule::new(
        None,
        "/v2/",
        usize::MAX,
        unavailable,
    ));
    let dest = format!("{}/t/warm503:1", base.addr);
    let out = build(&sb, &dest, &["--cache=true"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(out.stderr.contains("cannot be reached"), "{}", out.stderr);
    assert_eq!(
        run_image(&base, "t/warm503:1", Some(&["cat".into(), "/hi".into()])),
        "hi\n"
    );
}

/// An entry of the cache directory is used only when its manifest is the very digest the
/// build asks for: an entry `sha256-<A>` whose index names another manifest (annotated as
/// `sha256:<A>`) is refused and the registry's image is used.
#[test]
fn a_substituted_cache_entry_is_refused() {
    let reg = registry_with_busybox();
    let marker = {
        let mut t = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(9);
        t.append_data(&mut h, "substituted", &b"not mine\n"[..])
            .unwrap();
        t.into_inner().unwrap()
    };
    testkit::images::push_with_raw_layer(&reg.addr, "library/busybox:latest", "t/other:1", &marker)
        .unwrap();
    let ctx = context(&[("Dockerfile", "FROM scratch\n")]);
    let sb = sandbox(ctx.path());
    let a = format!("{}/library/busybox:latest", reg.addr);
    warm(&sb, &["--image", &a]);
    let first = entries(&sb);
    warm(&sb, &["--image", &format!("{}/t/other:1", reg.addr)]);
    let b_entry = entries(&sb)
        .into_iter()
        .find(|e| !first.contains(e))
        .unwrap();
    let (a_dir, b_dir) = (
        sb.root().join("cache").join(&first[0]),
        sb.root().join("cache").join(&b_entry),
    );
    let a_digest = first[0].replacen('-', ":", 1);
    // The other image's blobs and index in A's entry, its manifest annotated as A.
    let cp = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", b_dir.display()))
        .arg(&a_dir)
        .status()
        .unwrap();
    assert!(cp.success());
    let index_path = a_dir.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    for m in index["manifests"].as_array_mut().unwrap() {
        m["annotations"]["org.opencontainers.image.ref.name"] = a_digest.clone().into();
    }
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();

    let by_digest = format!("{}/library/busybox@{a_digest}", reg.addr);
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!("FROM {by_digest}\nRUN test ! -e /substituted\n"),
    )
    .unwrap();
    let out = build(
        &sb,
        &format!("{}/t/subst:1", reg.addr),
        &["--cache=true", "--cache-dir=/cache"],
    );
    assert_eq!(
        out.status, 0,
        "the substituted image was used:\n{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Error while retrieving image from cache"),
        "{}",
        out.stderr
    );
}
