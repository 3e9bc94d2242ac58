//! `--sbom` and `--provenance`: what a build attaches, read back by independent tools. The
//! index, the manifests and the referrers fallback tag with skopeo (`inspect --raw`), the
//! blobs from the registry's own storage, the SPDX document with spdx-tools
//! (`pyspdxtools -i`), the statements and the SLSA predicate with check-jsonschema against
//! the schemas in testdata/attestations, the dpkg packages against `dpkg-query` over the
//! pulled image's database, an rpm database made with Debian's `rpm`, an apk database; no
//! planted secret in any attestation byte.

mod common;
mod remote;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use testkit::images::{push_image, ImageSpec, TlsMode};
use testkit::registry::Registry;

const TOKEN: &str = "planted-build-arg-token-5b1e";
const SECRET: &str = "planted-secret-value-77c0";
const VENV: &str = "/var/lib/kaniko-rs/venv/bin";

fn sh(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// busybox with an os-release of Debian 12 and this machine's dpkg database (status and the
/// file list of busybox-static, whose /bin/busybox the image has).
fn push_debianish(reg: &Registry) -> String {
    let root = tempfile::tempdir().unwrap();
    testkit::images::busybox_rootfs(root.path()).unwrap();
    let etc = root.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("os-release"),
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    let info = root.path().join("var/lib/dpkg/info");
    std::fs::create_dir_all(&info).unwrap();
    std::fs::copy(
        "/var/lib/dpkg/status",
        root.path().join("var/lib/dpkg/status"),
    )
    .unwrap();
    std::fs::write(info.join("busybox-static.list"), "/.\n/bin\n/bin/busybox\n").unwrap();
    push_image(
        &reg.addr,
        "base/debianish:12",
        root.path(),
        &ImageSpec::default(),
        None,
        TlsMode::Plain,
    )
    .expect("push base")
}

/// A root holding an rpm database (sqlite) with one small package installed by `rpm`.
fn rpm_root(dir: &Path) {
    let work = tempfile::tempdir().unwrap();
    let spec = work.path().join("tiny.spec");
    std::fs::write(
        &spec,
        "Name: tiny\nVersion: 1.2\nRelease: 3\nSummary: tiny\nLicense: MIT\nBuildArch: noarch\n\
         %description\ntiny\n%install\nmkdir -p %{buildroot}/usr/share/tiny\n\
         echo hi > %{buildroot}/usr/share/tiny/hello\n%files\n/usr/share/tiny/hello\n",
    )
    .unwrap();
    let top = work.path().join("top");
    sh(Command::new("rpmbuild")
        .args(["-bb", "--quiet", "--define"])
        .arg(format!("_topdir {}", top.display()))
        .args(["--define", "_build_id_links none"])
        .arg(&spec));
    let rpm = top.join("RPMS/noarch/tiny-1.2-3.noarch.rpm");
    let db = dir.join("var/lib/rpm");
    std::fs::create_dir_all(&db).unwrap();
    let sqlite = ["--define", "_db_backend sqlite"];
    sh(Command::new("rpm")
        .args(sqlite)
        .arg("--dbpath")
        .arg(&db)
        .arg("--initdb"));
    sh(Command::new("rpm")
        .args(sqlite)
        .arg("--root")
        .arg(dir)
        .args(["--dbpath", "/var/lib/rpm", "-i", "--nodeps"])
        .arg(&rpm));
    for extra in [".rpm.lock", "rpmdb.sqlite-shm", "rpmdb.sqlite-wal"] {
        let _ = std::fs::remove_file(db.join(extra));
    }
}

const APK_DB: &str = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nF:lib\n\
R:ld-musl-x86_64.so.1\nZ:Q1kh7IuZ6Pcs29GF3m+CxZ5C6pQjs=\n\n";

/// A blob of `repo` in the registry's storage, read as the registry keeps it.
fn blob(reg: &Registry, digest: &str) -> Vec<u8> {
    reg.stored_blob(digest).unwrap_or_else(|e| panic!("{e}"))
}

fn raw(reg: &Registry, reference: &str) -> Value {
    let out = sh(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}/{reference}", reg.addr),
    ]));
    serde_json::from_str(&out).expect("skopeo raw json")
}

/// The same index, attestation manifest, statements and referrers fallback read by another
/// OCI client: the oras Python SDK (testdata/attestations/oras_walk.py).
fn oras_walk(reg: &Registry, image_digest: &str, attestation_digest: &str) {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/attestations/oras_walk.py");
    let out = sh(Command::new(format!("{VENV}/python3")).arg(script).args([
        reg.addr.as_str(),
        "test/attested",
        "1",
    ]));
    let seen: Value = serde_json::from_str(&out).expect("oras_walk json");
    assert_eq!(seen["images"][image_digest], "linux/amd64", "{seen}");
    assert_eq!(
        seen["attestations"][image_digest],
        serde_json::json!([
            "https://slsa.dev/provenance/v0.2",
            "https://spdx.dev/Document"
        ]),
        "{seen}"
    );
    assert_eq!(
        seen["referrers"][image_digest],
        serde_json::json!([attestation_digest]),
        "{seen}"
    );
}

fn check_jsonschema(schema: &str, doc: &Path) {
    let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/attestations")
        .join(schema);
    sh(Command::new(format!("{VENV}/check-jsonschema"))
        .arg("--schemafile")
        .arg(schema)
        .arg(doc));
}

#[test]
fn sbom_and_provenance_in_an_index_as_buildkit_stores_them() {
    let reg = registry_with_busybox();
    let base_digest = push_debianish(&reg);
    let rpm = tempfile::tempdir().unwrap();
    rpm_root(rpm.path());
    let files =
        testkit::files::FileServer::start(&[("/payload.txt", b"downloaded bytes\n")]).unwrap();
    let url = files.url("/payload.txt");
    let df = format!(
        "FROM {r}/base/debianish:12\nARG NPM_TOKEN\nCOPY app.txt /app/app.txt\nADD {url} /payload.txt\n\
         COPY apk-installed /lib/apk/db/installed\nCOPY rpmroot/var/lib/rpm /var/lib/rpm\nCOPY rpmroot/usr /usr\n\
         RUN --mount=type=secret,id=tok test -s /run/secrets/tok && echo ok > /ran\n",
        r = reg.addr
    );
    let ctx = context(&[
        ("Dockerfile", &df),
        ("app.txt", "application bytes\n"),
        ("apk-installed", APK_DB),
    ]);
    sh(Command::new("cp")
        .arg("-a")
        .arg(rpm.path())
        .arg(ctx.path().join("rpmroot")));
    let dest = format!("{}/test/attested:1", reg.addr);
    let mut sb = testkit::sandbox::Sandbox::new(&executor()).unwrap();
    sb.context(ctx.path()).env("TOK_VALUE", SECRET);
    let mut args = PLAIN.to_vec();
    let token_arg = format!("NPM_TOKEN={TOKEN}");
    args.extend_from_slice(&[
        "--sbom",
        "--provenance=mode=max",
        "--build-arg",
        &token_arg,
        "--secret",
        "id=tok,env=TOK_VALUE",
        "--destination",
        &dest,
        "--digest-file",
        "/kaniko/d",
    ]);
    let out = sb.run(&args).unwrap();
    assert_eq!(out.status, 0, "executor failed:\n{}", out.stderr);

    // The tag names an OCI index: the image (its platform) and the attestation manifest.
    let index = raw(&reg, "test/attested:1");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 2, "{index}");
    let image = &manifests[0];
    assert_eq!(image["platform"]["os"], "linux");
    let image_digest = image["digest"].as_str().unwrap();
    let att = &manifests[1];
    assert_eq!(att["platform"]["os"], "unknown");
    assert_eq!(att["platform"]["architecture"], "unknown");
    assert_eq!(
        att["annotations"]["vnd.docker.reference.type"],
        "attestation-manifest"
    );
    assert_eq!(
        att["annotations"]["vnd.docker.reference.digest"],
        image_digest
    );
    let digest_file = std::fs::read_to_string(sb.root().join("kaniko/d")).unwrap();
    let index_bytes = sh(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{dest}"),
    ]));
    assert_eq!(
        digest_file,
        format!("sha256:{}", hex_sha256(index_bytes.as_bytes())),
        "the digest file names the index"
    );
    let image_manifest = raw(&reg, &format!("test/attested@{image_digest}"));
    assert!(image_manifest["layers"].as_array().unwrap().len() >= 2);

    // The attestation manifest's layers: one statement per predicate type.
    let att_manifest = raw(
        &reg,
        &format!("test/attested@{}", att["digest"].as_str().unwrap()),
    );
    assert_eq!(
        att_manifest["artifactType"],
        "application/vnd.docker.attestation.manifest.v1+json"
    );
    assert_eq!(att_manifest["subject"]["digest"], image_digest);
    assert_eq!(
        att_manifest["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    // This registry has no referrers API: OCI 1.1's tag-schema fallback lists the
    // attestation manifest under `sha256-<image hex>`.
    let referrers = raw(
        &reg,
        &format!("test/attested:sha256-{}", &image_digest[7..]),
    );
    assert_eq!(referrers["manifests"][0]["digest"], att["digest"]);
    assert_eq!(
        referrers["manifests"][0]["artifactType"],
        "application/vnd.docker.attestation.manifest.v1+json"
    );
    oras_walk(&reg, image_digest, att["digest"].as_str().unwrap());
    let layers = att_manifest["layers"].as_array().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut by_type = std::collections::BTreeMap::new();
    for l in layers {
        assert_eq!(l["mediaType"], "application/vnd.in-toto+json");
        let ty = l["annotations"]["in-toto.io/predicate-type"]
            .as_str()
            .unwrap()
            .to_string();
        let bytes = blob(&reg, l["digest"].as_str().unwrap());
        for needle in [TOKEN, SECRET] {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(needle),
                "{needle} in the {ty} statement"
            );
        }
        let st: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(st["predicateType"], ty.as_str());
        assert_eq!(st["subject"][0]["digest"]["sha256"], &image_digest[7..]);
        let path = dir.path().join(format!("statement-{}.json", by_type.len()));
        std::fs::write(&path, &bytes).unwrap();
        check_jsonschema("in-toto-statement-v0.1.schema.json", &path);
        by_type.insert(ty, st);
    }
    let sbom = &by_type["https://spdx.dev/Document"]["predicate"];
    let prov = &by_type["https://slsa.dev/provenance/v0.2"]["predicate"];
    std::fs::write(
        "/tmp/att-sbom.json",
        serde_json::to_vec_pretty(sbom).unwrap(),
    )
    .unwrap();
    std::fs::write(
        "/tmp/att-prov.json",
        serde_json::to_vec_pretty(prov).unwrap(),
    )
    .unwrap();

    // SPDX: spdx-tools validates it.
    let spdx = dir.path().join("sbom.spdx.json");
    std::fs::write(&spdx, serde_json::to_vec(sbom).unwrap()).unwrap();
    sh(Command::new(format!("{VENV}/pyspdxtools"))
        .arg("-i")
        .arg(&spdx));

    // dpkg: the packages dpkg-query lists in the pulled image's database, with versions.
    let pulled = tempfile::tempdir().unwrap();
    let bundle = testkit::images::unpack(&reg.addr, "test/attested:1", pulled.path()).unwrap();
    let admindir = bundle.join("rootfs/var/lib/dpkg");
    let listed = sh(Command::new("dpkg-query")
        .arg(format!("--admindir={}", admindir.display()))
        .args(["-W", "-f", "${Package} ${Version} ${db:Status-Status}\\n"]));
    let mut want: Vec<String> = listed
        .lines()
        .filter(|l| !l.ends_with(" not-installed") && !l.ends_with(" config-files"))
        .map(|l| l.rsplit_once(' ').unwrap().0.to_string())
        .collect();
    want.sort();
    want.dedup();
    let packages = sbom["packages"].as_array().unwrap();
    let purl = |p: &Value| {
        p["externalRefs"]
            .as_array()
            .and_then(|r| r.first())
            .map(|r| r["referenceLocator"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let mut got: Vec<String> = packages
        .iter()
        .filter(|p| purl(p).starts_with("pkg:deb/debian/"))
        .map(|p| {
            format!(
                "{} {}",
                p["name"].as_str().unwrap(),
                p["versionInfo"].as_str().unwrap()
            )
        })
        .collect();
    got.sort();
    got.dedup();
    assert!(want.len() > 20, "{listed}");
    assert_eq!(got, want);
    let os = packages
        .iter()
        .find(|p| p["primaryPackagePurpose"] == "OPERATING-SYSTEM")
        .unwrap();
    assert_eq!(
        (os["name"].as_str(), os["versionInfo"].as_str()),
        (Some("debian"), Some("12"))
    );

    // apk and rpm packages, with license, purl and their files.
    let named = |n: &str| {
        packages
            .iter()
            .find(|p| p["name"] == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let musl = named("musl");
    assert_eq!(musl["licenseDeclared"], "MIT");
    assert!(
        purl(musl).starts_with("pkg:apk/debian/musl@1.2.4-r2?arch=x86_64"),
        "{}",
        purl(musl)
    );
    let tiny = named("tiny");
    assert_eq!(tiny["versionInfo"], "1.2-3");
    assert_eq!(tiny["licenseDeclared"], "MIT");
    assert!(
        purl(tiny).starts_with("pkg:rpm/debian/tiny@1.2-3?arch=noarch"),
        "{}",
        purl(tiny)
    );
    let files = sbom["files"].as_array().unwrap();
    let file = |n: &str| {
        files
            .iter()
            .find(|f| f["fileName"] == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let checksum = |f: &Value, alg: &str| {
        f["checksums"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["algorithm"] == alg)
            .map(|c| c["checksumValue"].as_str().unwrap().to_string())
    };
    let app = file("./app/app.txt");
    assert_eq!(
        checksum(app, "SHA256").unwrap(),
        hex_sha256(b"application bytes\n")
    );
    let hello = file("./usr/share/tiny/hello");
    assert_eq!(checksum(hello, "SHA256").unwrap(), hex_sha256(b"hi\n"));
    file("./bin/busybox");
    let rels = sbom["relationships"].as_array().unwrap();
    assert!(rels.iter().any(
        |r| r["relatedSpdxElement"] == hello["SPDXID"] && r["spdxElementId"] == tiny["SPDXID"]
    ));

    // Provenance: schema, base digest, Dockerfile digest and text, no build-arg secret.
    let pred = dir.path().join("provenance.json");
    std::fs::write(&pred, serde_json::to_vec(prov).unwrap()).unwrap();
    check_jsonschema("slsa-provenance-v0.2.schema.json", &pred);
    let materials = prov["materials"].as_array().unwrap();
    let base = materials
        .iter()
        .find(|m| m["uri"].as_str().unwrap().contains("base/debianish"))
        .unwrap_or_else(|| panic!("{materials:?}"));
    assert_eq!(base["digest"]["sha256"], &base_digest[7..]);
    let dockerfile = materials
        .iter()
        .find(|m| m["uri"].as_str().unwrap().starts_with("file://"))
        .unwrap();
    assert_eq!(
        dockerfile["digest"]["sha256"],
        hex_sha256(df.as_bytes()).as_str()
    );
    let download = materials.iter().find(|m| m["uri"] == url.as_str()).unwrap();
    assert_eq!(
        download["digest"]["sha256"],
        hex_sha256(b"downloaded bytes\n").as_str()
    );
    let payload = file("./payload.txt");
    assert_eq!(
        checksum(payload, "SHA256").unwrap(),
        hex_sha256(b"downloaded bytes\n")
    );
    assert_eq!(
        prov["invocation"]["configSource"]["entryPoint"],
        "Dockerfile"
    );
    assert_eq!(prov["invocation"]["parameters"]["secrets"][0]["id"], "tok");
    let steps = prov["buildConfig"]["llbDefinition"].as_array().unwrap();
    assert!(steps.len() >= 5);
    // A RUN's arguments as BuildKit records them: the shell, then the command alone.
    let run_args: Vec<&serde_json::Value> = steps
        .iter()
        .filter_map(|s| s["op"]["Op"]["exec"]["meta"]["args"].as_array())
        .map(|a| &a[..])
        .filter(|a| a.len() == 3)
        .map(|a| &a[2])
        .collect();
    assert!(
        run_args
            .iter()
            .any(|a| a.as_str() == Some("test -s /run/secrets/tok && echo ok > /ran")),
        "{run_args:?}"
    );
}

/// A git context's commit in the provenance; `--no-push` with `--oci-layout-path` and
/// `--tar-path`: both hold the index (read by skopeo as `oci:` and `oci-archive:`), the
/// tarball still loads as a docker-archive, and the digest file names the index.
#[test]
fn git_context_commit_and_local_outputs() {
    use testkit::servers::git::WorkRepo;
    use testkit::servers::http::{Config, HttpServer};
    let reg = registry_with_busybox();
    let srv = HttpServer::start(Config::default()).unwrap();
    let repo = WorkRepo::init().unwrap();
    for (p, c) in remote::context_files(&reg, "one") {
        repo.write(&[(p.as_str(), c.as_str())]).unwrap();
    }
    let commit = repo.commit("one").unwrap();
    repo.publish(&srv.repos, "app.git").unwrap();
    let url = format!("git://{}/git/app.git", srv.addr);
    let (sb, out) = remote::build(
        &reg,
        &url,
        &[("GIT_PULL_METHOD", "http")],
        &[
            "--no-push",
            "--attest",
            "type=provenance,mode=min",
            "--oci-layout-path",
            "/kaniko/layout",
            "--tar-path",
            "/kaniko/image.tar",
            "--digest-file",
            "/kaniko/d",
        ],
        "unused",
    );
    assert_eq!(out.status, 0, "{}", out.stderr);
    let digest = std::fs::read_to_string(sb.root().join("kaniko/d")).unwrap();
    let layout = sb.root().join("kaniko/layout");
    let index_json: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index_json["manifests"][0]["digest"], digest.as_str());
    assert_eq!(
        index_json["manifests"][0]["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let tar = sb.root().join("kaniko/image.tar");
    for source in [
        format!("oci:{}", layout.display()),
        format!("oci-archive:{}", tar.display()),
    ] {
        let index: Value = serde_json::from_str(&sh(
            Command::new("skopeo").args(["inspect", "--raw", &source])
        ))
        .unwrap();
        assert_eq!(
            index["manifests"].as_array().map(Vec::len),
            Some(2),
            "{source}: {index}"
        );
        let att = &index["manifests"][1];
        assert_eq!(
            att["annotations"]["vnd.docker.reference.type"],
            "attestation-manifest"
        );
    }
    // Still a docker-archive: its manifest.json names the image's config and layers.
    let inspected: Value = serde_json::from_str(&sh(
        Command::new("skopeo").args(["inspect", &format!("docker-archive:{}", tar.display())])
    ))
    .unwrap();
    assert_eq!(inspected["Os"], "linux");
    // The provenance names the git context's commit (sha1), read from the layout's blobs.
    let blob = |d: &str| {
        std::fs::read(
            layout
                .join("blobs/sha256")
                .join(d.trim_start_matches("sha256:")),
        )
        .unwrap()
    };
    let index: Value = serde_json::from_slice(&blob(&digest)).unwrap();
    let att: Value =
        serde_json::from_slice(&blob(index["manifests"][1]["digest"].as_str().unwrap())).unwrap();
    let layer = &att["layers"][0];
    assert_eq!(
        layer["annotations"]["in-toto.io/predicate-type"],
        "https://slsa.dev/provenance/v0.2"
    );
    let st: Value = serde_json::from_slice(&blob(layer["digest"].as_str().unwrap())).unwrap();
    let source = &st["predicate"]["invocation"]["configSource"];
    assert_eq!(source["digest"]["sha1"], commit.as_str(), "{st}");
    assert_eq!(source["uri"], url.as_str());
    assert_eq!(st["subject"][0]["name"], "_");
}

/// A Docker schema 2 image (`--image-format=docker`) goes into an OCI index beside its OCI
/// attestation manifest (a Docker list cannot hold one): the registry takes it, and skopeo
/// copies the image out of it. SLSA v1 provenance (`version=v1`) against its schema.
#[test]
fn docker_schema2_image_in_an_oci_index() {
    let reg = registry_with_busybox();
    let ctx = context(&[(
        "Dockerfile",
        &format!(
            "FROM {}/library/busybox:latest\nRUN echo hi > /hi\n",
            reg.addr
        ),
    )]);
    let dest = format!("{}/test/docker-format:1", reg.addr);
    build_ok(
        ctx.path(),
        &[
            "--image-format=docker",
            "--attest=type=provenance,mode=max,version=v1",
            "-d",
            &dest,
        ],
    );
    let index = raw(&reg, "test/docker-format:1");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert_eq!(
        index["manifests"][0]["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    let out = tempfile::tempdir().unwrap();
    sh(Command::new("skopeo").args([
        "copy",
        "-q",
        "--src-tls-verify=false",
        &format!("docker://{dest}"),
        &format!("dir:{}", out.path().display()),
    ]));
    // SLSA v1 when asked: its schema holds, the base is a resolved dependency.
    let att = raw(
        &reg,
        &format!(
            "test/docker-format@{}",
            index["manifests"][1]["digest"].as_str().unwrap()
        ),
    );
    let layer = &att["layers"][0];
    assert_eq!(
        layer["annotations"]["in-toto.io/predicate-type"],
        "https://slsa.dev/provenance/v1"
    );
    let st: Value = serde_json::from_slice(&blob(&reg, layer["digest"].as_str().unwrap())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pred = dir.path().join("provenance-v1.json");
    std::fs::write(&pred, serde_json::to_vec(&st["predicate"]).unwrap()).unwrap();
    check_jsonschema("slsa-provenance-v1.schema.json", &pred);
    let deps = st["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    assert!(
        deps.iter()
            .any(|d| d["uri"].as_str().unwrap().contains("library/busybox")),
        "{deps:?}"
    );
    let copied: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        copied["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
}

/// A final stage with no instruction that needs the file system (no unpack otherwise):
/// `--sbom` still reads the base's packages, from the root it materializes.
#[test]
fn sbom_of_a_metadata_only_build() {
    let reg = registry_with_busybox();
    push_debianish(&reg);
    let ctx = context(&[(
        "Dockerfile",
        &format!("FROM {}/base/debianish:12\nLABEL stage=meta\n", reg.addr),
    )]);
    let (sb, _) = build_ok(
        ctx.path(),
        &["--sbom", "--no-push", "--oci-layout-path", "/kaniko/layout"],
    );
    let layout = sb.root().join("kaniko/layout");
    let blob = |d: &str| {
        let hex = d.trim_start_matches("sha256:");
        serde_json::from_slice::<Value>(
            &std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap(),
        )
        .unwrap()
    };
    let index_json = blob_json(&layout.join("index.json"));
    let index = blob(index_json["manifests"][0]["digest"].as_str().unwrap());
    let att = blob(index["manifests"][1]["digest"].as_str().unwrap());
    let st = blob(att["layers"][0]["digest"].as_str().unwrap());
    assert_eq!(st["predicateType"], "https://spdx.dev/Document");
    let debs = st["predicate"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["externalRefs"][0]["referenceLocator"]
                .as_str()
                .is_some_and(|u| u.starts_with("pkg:deb/debian/"))
        })
        .count();
    assert!(debs > 20, "{debs} dpkg packages");
}

fn blob_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn hex_sha256(b: &[u8]) -> String {
    ::image::Digest::sha256(b).hex().to_string()
}

/// The statement of `predicate_type` attached to the image `reference` in `reg`.
fn statement(reg: &Registry, reference: &str, predicate_type: &str) -> Value {
    let index = raw(reg, reference);
    let repo = reference.split(':').next().unwrap();
    let att = raw(
        reg,
        &format!(
            "{repo}@{}",
            index["manifests"][1]["digest"].as_str().unwrap()
        ),
    );
    let layer = att["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["annotations"]["in-toto.io/predicate-type"] == predicate_type)
        .unwrap_or_else(|| panic!("no {predicate_type} statement"));
    serde_json::from_slice(&blob(reg, layer["digest"].as_str().unwrap())).unwrap()
}

/// The SBOM's files (name and SHA-256, sorted) of the image `reference` in `reg`.
fn sbom_files(reg: &Registry, reference: &str) -> Vec<(String, String)> {
    let st = statement(reg, reference, "https://spdx.dev/Document");
    let none = Vec::new();
    let mut files: Vec<(String, String)> = st["predicate"]["files"]
        .as_array()
        .unwrap_or(&none)
        .iter()
        .map(|f| {
            let sha = f["checksums"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["algorithm"] == "SHA256")
                .map(|c| c["checksumValue"].as_str().unwrap().to_string())
                .unwrap_or_default();
            (f["fileName"].as_str().unwrap().to_string(), sha)
        })
        .collect();
    files.sort();
    files
}

/// A second `--cache=true` build, whose COPY and RUN layers all come from the cache
/// repository, lists the same COPY files (with their checksums) as the first; a file a
/// later RUN rewrote is left out both times.
#[test]
fn sbom_files_of_a_cached_build_match_the_uncached_one() {
    let reg = registry_with_busybox();
    let df = format!(
        "FROM {}/library/busybox:latest\nCOPY a.txt /app/a.txt\nCOPY b.txt /app/b.txt\n\
         RUN echo rewritten > /app/b.txt\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df), ("a.txt", "aaa\n"), ("b.txt", "bbb\n")]);
    let build = |tag: &str| {
        let dest = format!("{}/test/cached:{tag}", reg.addr);
        let (_, out) = build_ok(
            ctx.path(),
            &["--cache=true", "--cache-copy-layers", "--sbom", "-d", &dest],
        );
        out.stderr
    };
    build("1");
    let second = build("2");
    assert!(
        second.contains("Using caching version of cmd: COPY a.txt /app/a.txt"),
        "{second}"
    );
    let want = vec![("./app/a.txt".to_string(), hex_sha256(b"aaa\n"))];
    assert_eq!(sbom_files(&reg, "test/cached:1"), want);
    assert_eq!(sbom_files(&reg, "test/cached:2"), want);
}

/// `ADD <git URL>` sources are provenance materials with the commit each resolved to (a
/// tag's commit for `#v1:sub`, the default branch's head otherwise), as BuildKit records
/// git sources: the URL as given, `digest.sha1`.
#[test]
fn add_of_git_repositories_in_the_provenance() {
    use testkit::servers::git::WorkRepo;
    use testkit::servers::http::{Config, HttpServer};
    let reg = registry_with_busybox();
    let srv = HttpServer::start(Config::default()).unwrap();
    let repo = WorkRepo::init().unwrap();
    repo.write(&[("sub/inner.txt", "v1")]).unwrap();
    let first = repo.commit("one").unwrap();
    repo.git(&["tag", "v1"]).unwrap();
    repo.write(&[("sub/inner.txt", "v2")]).unwrap();
    let head = repo.commit("two").unwrap();
    repo.publish(&srv.repos, "lib.git").unwrap();
    let url = format!("http://{}/git/lib.git", srv.addr);
    let tagged = format!("{url}#v1:sub");
    let df = format!(
        "FROM {}/library/busybox:latest\nADD {url} /whole\nADD {tagged} /old\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/addgit-prov:1", reg.addr);
    build_ok(ctx.path(), &["--provenance=mode=min", "-d", &dest]);
    let st = statement(
        &reg,
        "test/addgit-prov:1",
        "https://slsa.dev/provenance/v0.2",
    );
    let materials = st["predicate"]["materials"].as_array().unwrap();
    for (uri, commit) in [(&url, &head), (&tagged, &first)] {
        assert!(
            materials
                .iter()
                .any(|m| m["uri"] == uri.as_str() && m["digest"]["sha1"] == commit.as_str()),
            "{uri} at {commit} not in {materials:?}"
        );
    }
}
