//! Several target platforms in one run (`--custom-platform=linux/amd64,linux/arm64`, issue
//! 22): one image per platform from a two-platform base index (Debian's amd64 and arm64
//! busybox-static; arm64 RUN steps through qemu's binfmt_misc handler), one index tagged
//! at every destination, the digest files, OCI layout and tarball describing it, a
//! `--platform=$BUILDPLATFORM` stage built once, a missing platform named, the layer
//! cache hit per platform, and attestations per platform in the one index.

mod common;
use common::*;
use serde_json::Value;
use std::process::Command;
use testkit::images::{self, Access, Format, ImageSpec, Platform};
use testkit::registry::{Auth, Registry};

/// A registry whose `library/busybox:latest` is an index over `platforms`.
fn registry_with_index(platforms: &[Platform], format: Format) -> Registry {
    let reg = Registry::start(Auth::None, false).expect("start registry");
    let spec = ImageSpec {
        format,
        ..ImageSpec::default()
    };
    images::push_busybox_index(
        &reg.addr,
        "library/busybox:latest",
        platforms,
        &spec,
        &Access::default(),
    )
    .expect("push busybox index");
    reg
}

fn emulation() -> bool {
    if !images::aarch64_emulation() {
        eprintln!(
            "qemu-aarch64 is not registered in binfmt_misc with the F flag (.ci/run does it)"
        );
        return false;
    }
    true
}

/// The manifest at `reference` exactly as stored, and its digest.
fn raw(reg: &Registry, reference: &str) -> (Value, String) {
    let out = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false", "--raw"])
        .arg(format!("docker://{}/{reference}", reg.addr))
        .output()
        .expect("skopeo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let digest = ::image::Digest::sha256(&out.stdout).to_string();
    (serde_json::from_slice(&out.stdout).expect("json"), digest)
}

/// A file of the image `reference` built for `arch`, pulled with skopeo --override-arch.
fn file_in(reg: &Registry, reference: &str, arch: &str, path: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let bundle = images::unpack_platform(&reg.addr, reference, arch, dir.path()).unwrap();
    std::fs::read_to_string(bundle.join("rootfs").join(path)).unwrap()
}

fn both() -> [Platform; 2] {
    [Platform::amd64(), Platform::arm64()]
}

#[test]
fn two_platforms_make_one_index_and_every_output_names_it() {
    if !emulation() {
        return;
    }
    let reg = registry_with_index(&both(), Format::Docker);
    let df = format!(
        "FROM {}/library/busybox:latest\nARG TARGETPLATFORM\nRUN uname -m > /machine && echo $TARGETPLATFORM > /target\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let (d1, d2) = (
        format!("{}/test/multi:1", reg.addr),
        format!("{}/test/other:2", reg.addr),
    );
    let (sb, out) = build_ok(
        ctx.path(),
        &[
            "--platform=linux/amd64,linux/arm64",
            "-d",
            &d1,
            "-d",
            &d2,
            "--digest-file=/kaniko/d",
            "--image-name-with-digest-file=/kaniko/n",
            "--image-name-tag-with-digest-file=/kaniko/nt",
            "--oci-layout-path=/kaniko/layout",
            "--tar-path=/kaniko/image.tar",
        ],
    );
    let log = format!("{}{}", out.stdout, out.stderr);
    let (index, digest) = raw(&reg, "test/multi:1");
    assert_eq!(raw(&reg, "test/other:2").1, digest);
    // Every base is Docker-typed, so a Docker manifest list.
    assert_eq!(
        index["mediaType"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    let entries = index["manifests"].as_array().unwrap();
    let archs: Vec<&str> = entries
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(archs, ["amd64", "arm64"], "{index}");
    for m in entries {
        assert_eq!(m["platform"]["os"], "linux");
        let line = format!(
            "Built linux/{}: {}",
            m["platform"]["architecture"].as_str().unwrap(),
            m["digest"].as_str().unwrap()
        );
        assert!(log.contains(&line), "{line} not in {log}");
    }
    // Both platforms' bases were resolved before the first platform's image was built.
    let first_built = out.stderr.find("Built linux/amd64").expect("built line");
    let resolved = out.stderr[..first_built]
        .matches("Retrieving image manifest")
        .count();
    assert_eq!(resolved, 2, "{}", out.stderr);
    for (arch, machine) in [("amd64", "x86_64"), ("arm64", "aarch64")] {
        assert_eq!(
            file_in(&reg, "test/multi:1", arch, "machine"),
            format!("{machine}\n")
        );
        assert_eq!(
            file_in(&reg, "test/multi:1", arch, "target"),
            format!("linux/{arch}\n")
        );
    }
    // The arm64 image runs under binfmt with runc.
    let dir = tempfile::tempdir().unwrap();
    let bundle = images::unpack_platform(&reg.addr, "test/multi:1", "arm64", dir.path()).unwrap();
    let run = images::run_bundle(&bundle, Some(&["uname".to_string(), "-m".to_string()])).unwrap();
    assert_eq!(run.stdout, "aarch64\n", "{}", run.stderr);
    // The digest files name the index.
    let read = |p: &str| std::fs::read_to_string(sb.root().join(p)).unwrap();
    assert_eq!(read("kaniko/d"), digest);
    assert_eq!(
        read("kaniko/n"),
        format!(
            "{0}/test/multi@{digest}\n{0}/test/other@{digest}\n",
            reg.addr
        )
    );
    assert_eq!(
        read("kaniko/nt"),
        format!(
            "{0}/test/multi:1@{digest}\n{0}/test/other:2@{digest}\n",
            reg.addr
        )
    );
    // The layout lists each platform's manifest; the index is among its blobs.
    let layout: Value = serde_json::from_str(&read("kaniko/layout/index.json")).unwrap();
    let listed: Vec<&Value> = layout["manifests"].as_array().unwrap().iter().collect();
    assert_eq!(listed.len(), 2);
    for (l, m) in listed.iter().zip(entries) {
        assert_eq!(l["digest"], m["digest"]);
        assert_eq!(l["platform"], m["platform"]);
    }
    let hex = digest.trim_start_matches("sha256:");
    assert!(sb
        .root()
        .join("kaniko/layout/blobs/sha256")
        .join(hex)
        .is_file());
    // The tarball: an OCI archive naming the index, and docker load's manifest.json.
    let tar = sb.root().join("kaniko/image.tar");
    let names = Command::new("tar").arg("tf").arg(&tar).output().unwrap();
    let names = String::from_utf8_lossy(&names.stdout);
    for n in [
        "index.json",
        "oci-layout",
        "manifest.json",
        &format!("blobs/sha256/{hex}"),
    ] {
        assert!(names.lines().any(|l| l == n), "{n} not in {names}");
    }
    let x = Command::new("tar")
        .arg("xOf")
        .arg(&tar)
        .arg("index.json")
        .output()
        .unwrap();
    let top: Value = serde_json::from_slice(&x.stdout).unwrap();
    assert_eq!(top["manifests"][0]["digest"], digest.as_str());
    let copy = Command::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!("oci-archive:{}", tar.display()))
        .output()
        .unwrap();
    assert!(
        copy.status.success(),
        "{}",
        String::from_utf8_lossy(&copy.stderr)
    );
    assert_eq!(::image::Digest::sha256(&copy.stdout).to_string(), digest);
}

#[test]
fn a_build_platform_stage_runs_once_for_every_target() {
    if !emulation() {
        return;
    }
    let reg = registry_with_index(&both(), Format::Oci);
    let df = format!(
        "FROM --platform=$BUILDPLATFORM {0}/library/busybox:latest AS builder\n\
         ARG BUILDARCH\n\
         RUN echo \"tool for $BUILDARCH built on $(uname -m)\" > /tool && echo BUILDER-RAN-$((6*7))\n\
         FROM --platform=$BUILDPLATFORM {0}/library/busybox:latest AS cross\n\
         ARG TARGETARCH\n\
         RUN echo \"$TARGETARCH on $(uname -m)\" > /gen && echo CROSS-RAN-$((6*7))-$TARGETARCH\n\
         FROM {0}/library/busybox:latest\n\
         ARG TARGETARCH\n\
         COPY --from=builder /tool /tool\n\
         COPY --from=cross /gen /gen\n\
         RUN uname -m > /machine && echo $TARGETARCH >> /tool\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/cross:1", reg.addr);
    let (_sb, out) = build_ok(
        ctx.path(),
        &[
            "--custom-platform=linux/amd64",
            "--custom-platform=linux/arm64",
            "-d",
            &dest,
        ],
    );
    let log = format!("{}{}", out.stdout, out.stderr);
    assert_eq!(log.matches("BUILDER-RAN-42").count(), 1, "{log}");
    // A stage that declares TARGETARCH is built per target, natively.
    for arch in ["amd64", "arm64"] {
        let line = format!("CROSS-RAN-42-{arch}");
        assert_eq!(log.matches(&line).count(), 1, "{log}");
    }
    assert!(!log.contains("Reusing stage 1"), "{log}");
    assert!(
        log.contains("Reusing stage 0 as built for linux/amd64"),
        "{log}"
    );
    let (index, _) = raw(&reg, "test/cross:1");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    for (arch, machine) in [("amd64", "x86_64"), ("arm64", "aarch64")] {
        assert_eq!(
            file_in(&reg, "test/cross:1", arch, "tool"),
            format!("tool for amd64 built on x86_64\n{arch}\n")
        );
        assert_eq!(
            file_in(&reg, "test/cross:1", arch, "machine"),
            format!("{machine}\n")
        );
        assert_eq!(
            file_in(&reg, "test/cross:1", arch, "gen"),
            format!("{arch} on x86_64\n")
        );
    }
}

#[test]
fn a_base_without_the_platform_fails_naming_it() {
    let reg = registry_with_index(&[Platform::amd64()], Format::Oci);
    let df = format!("FROM {}/library/busybox:latest\nRUN true\n", reg.addr);
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/missing:1", reg.addr);
    let mut args = PLAIN.to_vec();
    args.extend(["--custom-platform=linux/amd64,linux/s390x", "-d", &dest]);
    let (_sb, out) = run(ctx.path(), &args);
    assert_eq!(out.status, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("has no image for platform linux/s390x"),
        "{}",
        out.stderr
    );
    assert!(!exists(&reg, "test/missing:1"));
}

#[test]
fn the_layer_cache_hits_per_platform_on_a_second_run() {
    if !emulation() {
        return;
    }
    let reg = registry_with_index(&both(), Format::Oci);
    let df = format!(
        "FROM {}/library/busybox:latest\nRUN uname -m > /machine\n",
        reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/cached:1", reg.addr);
    let cache = format!("{}/test/cache", reg.addr);
    let args = [
        "--custom-platform=linux/amd64,linux/arm64",
        "--cache=true",
        "--cache-repo",
        &cache,
        "-d",
        &dest,
    ];
    let hits = |log: &str| {
        log.matches("Using caching version of cmd: RUN uname -m")
            .count()
    };
    let (_sb, first) = build_ok(ctx.path(), &args);
    let first = format!("{}{}", first.stdout, first.stderr);
    assert_eq!(hits(&first), 0, "{first}");
    let (first_index, _) = raw(&reg, "test/cached:1");
    let (_sb, second) = build_ok(ctx.path(), &args);
    let second = format!("{}{}", second.stdout, second.stderr);
    assert_eq!(hits(&second), 2, "{second}");
    let (second_index, _) = raw(&reg, "test/cached:1");
    // Each platform's layer came back from the cache (same layer digests per platform).
    for i in 0..2 {
        let m = |idx: &Value| idx["manifests"][i]["digest"].as_str().unwrap().to_string();
        let layers = |d: String| raw(&reg, &format!("test/cached@{d}")).0["layers"].clone();
        assert_eq!(layers(m(&first_index)), layers(m(&second_index)));
    }
    for (arch, machine) in [("amd64", "x86_64"), ("arm64", "aarch64")] {
        assert_eq!(
            file_in(&reg, "test/cached:1", arch, "machine"),
            format!("{machine}\n")
        );
    }
}

/// `--sbom --provenance=mode=max` over two platforms: one OCI index of both images and
/// their two attestation manifests (after the images, as BuildKit lists them), each naming
/// its own image; each SBOM read from that platform's filesystem (a RUN writes an apk
/// database naming the machine), each provenance naming that platform's base; skopeo
/// copies the whole index.
#[test]
fn two_platforms_with_attestations_make_one_index_of_four() {
    if !emulation() {
        return;
    }
    let reg = registry_with_index(&both(), Format::Docker);
    // A builder stage on the build platform, from another repository: every target's
    // provenance names its base (resolved once, for linux/amd64, by the first build).
    images::push_busybox_index(
        &reg.addr,
        "tools/builder:1",
        &both(),
        &ImageSpec::default(),
        &Access::default(),
    )
    .expect("push builder index");
    let df = format!(
        "FROM --platform=$BUILDPLATFORM {r}/tools/builder:1 AS tools\n\
         RUN echo built > /tool\n\
         FROM {r}/library/busybox:latest\n\
         COPY --from=tools /tool /tool\n\
         RUN mkdir -p /lib/apk/db && m=$(uname -m) && \
         printf 'P:tool-%s\\nV:1.0-r0\\nA:%s\\nL:MIT\\n\\n' $m $m > /lib/apk/db/installed\n",
        r = reg.addr
    );
    let ctx = context(&[("Dockerfile", &df)]);
    let dest = format!("{}/test/attested-multi:1", reg.addr);
    let (sb, _) = build_ok(
        ctx.path(),
        &[
            "--platform=linux/amd64,linux/arm64",
            "--sbom",
            "--provenance=mode=max",
            "-d",
            &dest,
            "--digest-file=/kaniko/d",
        ],
    );
    let (index, digest) = raw(&reg, "test/attested-multi:1");
    let digest_file = std::fs::read_to_string(sb.root().join("kaniko/d")).unwrap();
    assert_eq!(digest_file, digest);
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entries = index["manifests"].as_array().unwrap();
    let platform = |m: &Value| {
        format!(
            "{}/{}",
            m["platform"]["os"].as_str().unwrap(),
            m["platform"]["architecture"].as_str().unwrap()
        )
    };
    let listed: Vec<String> = entries.iter().map(platform).collect();
    assert_eq!(
        listed,
        [
            "linux/amd64",
            "linux/arm64",
            "unknown/unknown",
            "unknown/unknown"
        ],
        "{index}"
    );
    let (base_index, _) = raw(&reg, "library/busybox:latest");
    let base_of = |arch: &str| {
        base_index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["platform"]["architecture"] == arch)
            .map(|m| m["digest"].as_str().unwrap().to_string())
            .unwrap()
    };
    for (i, (arch, machine, other)) in [
        ("amd64", "x86_64", "aarch64"),
        ("arm64", "aarch64", "x86_64"),
    ]
    .into_iter()
    .enumerate()
    {
        let image = &entries[i];
        let att = &entries[2 + i];
        assert_eq!(
            att["annotations"]["vnd.docker.reference.type"],
            "attestation-manifest"
        );
        assert_eq!(
            att["annotations"]["vnd.docker.reference.digest"],
            image["digest"]
        );
        let (m, _) = raw(
            &reg,
            &format!("test/attested-multi@{}", att["digest"].as_str().unwrap()),
        );
        assert_eq!(m["subject"]["digest"], image["digest"]);
        let statements: Vec<Value> = m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                serde_json::from_slice(&reg.stored_blob(l["digest"].as_str().unwrap()).unwrap())
                    .unwrap()
            })
            .collect();
        let of = |kind: &str| {
            statements
                .iter()
                .find(|s| s["predicateType"].as_str().unwrap().contains(kind))
                .unwrap_or_else(|| panic!("no {kind} statement in {statements:?}"))
        };
        let sbom = of("spdx").to_string();
        assert!(sbom.contains(&format!("tool-{machine}")), "{arch}: {sbom}");
        assert!(!sbom.contains(&format!("tool-{other}")), "{arch}: {sbom}");
        let prov = &of("slsa")["predicate"];
        let bases: Vec<&Value> = prov["materials"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["uri"].as_str().unwrap().contains("library/busybox"))
            .collect();
        assert_eq!(bases.len(), 1, "{arch}: {prov}");
        assert_eq!(
            format!("sha256:{}", bases[0]["digest"]["sha256"].as_str().unwrap()),
            base_of(arch),
            "{arch}: {prov}"
        );
        let (builder_index, _) = raw(&reg, "tools/builder:1");
        let builder_amd64 = builder_index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["platform"]["architecture"] == "amd64")
            .map(|m| m["digest"].as_str().unwrap()[7..].to_string())
            .unwrap();
        let builders: Vec<&Value> = prov["materials"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["uri"].as_str().unwrap().contains("tools/builder"))
            .collect();
        assert_eq!(builders.len(), 1, "{arch}: {prov}");
        assert_eq!(
            builders[0]["digest"]["sha256"],
            builder_amd64.as_str(),
            "{arch}"
        );
        let provenance_platform = &prov["invocation"]["parameters"]["args"]["platform"];
        assert_eq!(provenance_platform, &format!("linux/{arch}"), "{prov}");
    }
    // `executor attestations --platform` prints that platform's provenance only.
    let read = Command::new(executor())
        .args([
            "attestations",
            &dest,
            "--insecure-pull",
            "--type=provenance",
        ])
        .arg("--platform=linux/arm64")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&read.stdout);
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let printed: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(printed.len(), 1, "{stdout}");
    let args = &printed[0]["invocation"]["parameters"]["args"];
    assert_eq!(args["platform"], "linux/arm64", "{stdout}");
    // skopeo walks the whole index: a copy to another repository (every entry copied, no
    // conversion) is the same index, each entry readable there.
    let copied = format!("{}/test/copied:1", reg.addr);
    let copy = Command::new("skopeo")
        .args(["copy", "-q", "--all", "--preserve-digests"])
        .args(["--src-tls-verify=false", "--dest-tls-verify=false"])
        .arg(format!("docker://{dest}"))
        .arg(format!("docker://{copied}"))
        .output()
        .unwrap();
    assert!(
        copy.status.success(),
        "{}",
        String::from_utf8_lossy(&copy.stderr)
    );
    assert_eq!(raw(&reg, "test/copied:1").1, digest);
    for e in entries {
        let d = e["digest"].as_str().unwrap();
        assert_eq!(raw(&reg, &format!("test/copied@{d}")).1, d);
    }
}
