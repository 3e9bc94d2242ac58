//! The engine on its own: no registry, no sandbox, no executor binary. A base image in an
//! OCI layout directory (made here from the host's busybox-static), a build into a temporary
//! root directory (RUN enters it with chroot: these tests run as root, confined to a default
//! container's capabilities and seccomp filter like the sandbox), the built image's layers
//! read back from their blob files.

mod common;

use common::{build, build_with, layer_files, try_build_with};
use engine::{BuildOptions, LayerSource};
use std::collections::BTreeMap;

#[test]
fn builds_from_an_oci_layout_into_a_temporary_root() {
    let (image, _tmp) = build(
        "FROM base\nRUN echo made > /made && rm /bin/rm && (renice -n -1 -p $$ || echo no-sys-nice) > /caps\nCOPY hello.txt /app/\nCMD [\"cat\", \"/made\"]\n",
        &[("hello.txt", "hi\n")],
    );
    assert_eq!(image.layers.len(), 3, "{:?}", image.config.history);
    assert!(matches!(image.layers[0].source, LayerSource::Local(_)));
    let run = layer_files(&image, 1);
    assert_eq!(run.get("made").map(Vec::as_slice), Some(&b"made\n"[..]));
    assert!(run.contains_key("bin/.wh.rm"), "{:?}", run.keys());
    // The RUN had a default container's privileges: no CAP_SYS_NICE.
    assert_eq!(run["caps"], b"no-sys-nice\n");
    assert!(
        !run.contains_key("bin/busybox"),
        "the RUN layer holds only changes"
    );
    let copy = layer_files(&image, 2);
    assert_eq!(
        copy.get("app/hello.txt").map(Vec::as_slice),
        Some(&b"hi\n"[..])
    );
    assert_eq!(
        image.config.config.cmd,
        Some(vec!["cat".into(), "/made".into()])
    );
    // The base had no history; RUN and COPY add one entry each.
    assert_eq!(image.config.history.len(), 2);
}

#[test]
fn multi_stage_copies_from_a_stashed_stage_into_scratch() {
    let (image, tmp) = build(
        "FROM base AS b\nRUN mkdir -p /out && echo art > /out/a\nFROM base\nRUN echo other > /o\nFROM scratch\nCOPY --from=b /out/a /a\nCOPY --from=1 /o /o\n",
        &[],
    );
    assert_eq!(image.layers.len(), 2);
    assert_eq!(
        layer_files(&image, 0).get("a").map(Vec::as_slice),
        Some(&b"art\n"[..])
    );
    assert_eq!(
        layer_files(&image, 1).get("o").map(Vec::as_slice),
        Some(&b"other\n"[..])
    );
    // The final stage is scratch: the root holds only what it copied.
    let root = tmp.path().join("root");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["a", "o"]);
    // Nothing is left in the work directory's stage store.
    assert!(!tmp.path().join("work/stages").exists());
}

#[test]
fn stages_without_file_instructions_still_give_their_files() {
    // `meta` never needs its files itself: it is unpacked because a later stage copies from
    // it. `a` is not unpacked at all; `FROM a` then unpacks a's layers for its RUN.
    let (image, _tmp) = build(
        "FROM base AS meta\nLABEL x=1\nFROM base AS a\nLABEL y=2\nFROM a\nRUN ls /bin > /count\nCOPY --from=meta /bin/busybox /bb\n",
        &[],
    );
    assert_eq!(image.layers.len(), 3);
    let count = layer_files(&image, 1);
    let listing = String::from_utf8(count.get("count").cloned().unwrap_or_default()).unwrap();
    assert!(
        listing.contains("busybox\n") && listing.contains("sh\n"),
        "{listing}"
    );
    let copied = layer_files(&image, 2);
    assert_eq!(
        copied.get("bb").map(Vec::len),
        std::fs::metadata("/bin/busybox")
            .ok()
            .map(|m| m.len() as usize)
    );
    let labels = image.config.config.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("y").map(String::as_str), Some("2"));
}

#[test]
fn run_mounts_in_a_temporary_root_leave_nothing_in_the_layer() {
    let (image, tmp) = build_with(
        "FROM base\nRUN --mount=type=cache,target=/c --mount=type=secret,id=s \\\n --mount=type=tmpfs,target=/t sh -c 'cat /run/secrets/s > /c/copy; echo x > /t/x; cat /run/secrets/s > /seen'\n",
        &[],
        |o| {
            o.secrets
                .insert("s".into(), engine::SecretValue::new(b"value".to_vec()));
        },
    );
    let run = layer_files(&image, 1);
    assert_eq!(run.keys().collect::<Vec<_>>(), vec!["seen"]);
    assert_eq!(run["seen"], b"value");
    let cached = tmp.path().join("work/caches/%2Fc/copy");
    assert_eq!(std::fs::read(cached).unwrap(), b"value");
    for gone in ["c", "t", "run"] {
        assert!(
            !tmp.path().join("root").join(gone).exists(),
            "{gone} left in the root"
        );
    }
}

#[test]
fn a_cache_mounted_twice_by_one_run_is_linked_at_both_targets() {
    // The caches inside the root (as /kaniko/caches is in a Pod), so links resolve there.
    let (image, tmp) = build_with(
        "FROM base\nRUN --mount=type=cache,id=c,target=/a --mount=type=cache,id=c,target=/b/c \\\n sh -c 'echo one > /a/f; cat /b/c/f > /seen'\n",
        &[],
        |o| {
            o.cache_mounts = o.root.join("kaniko/caches");
            o.ignore = rootfs::IgnoreList::new(vec!["/kaniko".into()]);
        },
    );
    let run = layer_files(&image, 1);
    assert_eq!(run.keys().collect::<Vec<_>>(), vec!["seen"]);
    assert_eq!(run["seen"], b"one\n");
    let root = tmp.path().join("root");
    assert_eq!(
        std::fs::read(root.join("kaniko/caches/c/f")).unwrap(),
        b"one\n"
    );
    for gone in ["a", "b"] {
        assert!(!root.join(gone).exists(), "{gone} left in the root");
    }
}

#[test]
fn a_copied_link_is_packed_without_its_target() {
    // /x/sh is a link to /bin/busybox, which the base already has: the COPY layer holds the
    // link only, not the target packed again.
    let (image, _tmp) = build(
        "FROM base AS s\nRUN mkdir /d && ln -s /bin/busybox /d/sh\nFROM base\nCOPY --from=s /d/ /x/\n",
        &[],
    );
    let layer = layer_files(&image, 1);
    assert_eq!(layer.keys().collect::<Vec<_>>(), vec!["x/", "x/sh"]);
}

#[test]
fn hard_links_in_a_copied_tree_stay_hard_links() {
    let (image, _tmp) = build(
        "FROM base AS s\nRUN mkdir /d && echo x > /d/a && ln /d/a /d/b\nFROM scratch\nCOPY --from=s /d/ /x/\n",
        &[],
    );
    let LayerSource::Local(path) = &image.layers[0].source else {
        panic!("not a local layer");
    };
    let f = std::fs::File::open(path).unwrap();
    let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(f));
    let mut kinds = BTreeMap::new();
    for e in tar.entries().unwrap() {
        let e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        kinds.insert(name, e.header().entry_type());
    }
    assert_eq!(
        kinds.get("x/a"),
        Some(&tar::EntryType::Regular),
        "{kinds:?}"
    );
    assert_eq!(kinds.get("x/b"), Some(&tar::EntryType::Link), "{kinds:?}");
}

#[test]
fn a_layer_expanding_past_its_bound_fails_the_build() {
    // The busybox layer grows about twice over when unpacked: bounded at once its
    // compressed size it is refused, at three times it unpacks.
    let bounded = |max_expansion| {
        move |o: &mut BuildOptions| {
            o.unpack = engine::UnpackLimits {
                retries: 2,
                max_expansion,
                floor: 4096,
            }
        }
    };
    let (result, _tmp) = try_build_with("FROM base\nRUN true\n", &[], bounded(1));
    let err = result.unwrap_err().to_string();
    assert!(err.contains("layer expands past"), "{err}");
    assert!(err.contains("KANIKO_MAX_LAYER_EXPANSION"), "{err}");
    let (result, _tmp) = try_build_with("FROM base\nRUN true\n", &[], bounded(3));
    result.unwrap();
}

#[test]
fn sources_go_to_a_destination_without_slash_one_after_another() {
    // BuildKit copies each source in turn: an empty wildcard beside one file gives the
    // file; two files give the last one (issue 19).
    let (image, _tmp) = build(
        "FROM base\nCOPY doesnotexist* foo /hello\nCOPY a b /two\n",
        &[("foo", "foo\n"), ("a", "a\n"), ("b", "b\n")],
    );
    let hello = layer_files(&image, 1);
    assert_eq!(hello.get("hello").map(Vec::as_slice), Some(&b"foo\n"[..]));
    let two = layer_files(&image, 2);
    assert_eq!(two.get("two").map(Vec::as_slice), Some(&b"b\n"[..]));
}

#[test]
fn a_stage_from_a_stage_starts_with_its_build_args() {
    // The case: FROM <stage> inherits the stage's ARG values (BuildKit's
    // dispatchState.init appends the base's buildArgs and takes its state's env).
    let (image, _tmp) = build(
        "FROM base AS root\nARG NAME=\"base\"\nFROM root AS base-dev\nARG NAME=\"$NAME-dev\"\nRUN echo \"$NAME\" > /b\nFROM base-dev AS custom\nARG NAME\nRUN echo \"$NAME\" > /c\n",
        &[],
    );
    let b = layer_files(&image, 1);
    assert_eq!(b.get("b").map(Vec::as_slice), Some(&b"base-dev\n"[..]));
    let c = layer_files(&image, 2);
    assert_eq!(c.get("c").map(Vec::as_slice), Some(&b"base-dev\n"[..]));
}

#[test]
fn a_program_the_host_cannot_execute_fails_naming_what_is_missing() {
    // An ELF header for machine 0x1234, which no binfmt_misc handler claims (issue 22,
    // item 4): the error names the program, its machine and the missing handler.
    let elf = format!("\u{7f}ELF\u{2}\u{1}\u{1}{}4\u{12}", "\0".repeat(11));
    let df = "FROM base\nCOPY --chmod=755 prog /bin/foreign\nRUN [\"/bin/foreign\"]\n";
    let (result, _tmp) = try_build_with(df, &[("prog", &elf)], |_| {});
    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("/bin/foreign cannot be executed here"),
        "{err}"
    );
    assert!(err.contains("machine 4660"), "{err}");
    assert!(err.contains("binfmt_misc"), "{err}");
    // A script without #!: neither ELF nor a script the kernel runs.
    let df = "FROM base\nCOPY --chmod=755 script /bin/script\nRUN [\"/bin/script\"]\n";
    let (result, _tmp) = try_build_with(df, &[("script", "echo hi\n")], |_| {});
    let err = result.unwrap_err().to_string();
    assert!(err.contains("script starting with #!"), "{err}");
}

#[test]
fn a_cached_build_returns_once_its_cache_writes_are_done() {
    let dir = tempfile::tempdir().unwrap();
    let settings = engine::CacheSettings {
        ttl: std::time::Duration::from_secs(3600),
        run_layers: true,
        copy_layers: true,
        push: true,
        platform: image::Platform::parse("linux/amd64").unwrap(),
    };
    let cache = engine::LayerCache::layout(dir.path().join("cache"), settings);
    let df = "FROM base\nRUN echo one > /one\nCOPY a.txt /a.txt\n";
    let index = dir.path().join("cache/index.json");
    let entries = std::cell::Cell::new(0);
    let (image, _tmp) = common::try_build_cached(
        df,
        &[("a.txt", "a")],
        |o| o.hash_sources = true,
        Some(&cache),
        // Nobody waited for the writes but the build itself: both entries are in the index.
        || {
            let v: serde_json::Value = std::fs::read(&index)
                .map(|b| serde_json::from_slice(&b).unwrap())
                .unwrap_or_default();
            entries.set(v["manifests"].as_array().map_or(0, Vec::len));
        },
    );
    image.unwrap();
    assert_eq!(entries.get(), 2);
}

/// `build_targets` runs `after_each` once per target, in order, while the root holds that
/// target's final file system (the next target's build clears it), and hands what it
/// returned to `outputs` beside each image.
#[test]
fn after_each_sees_each_targets_root() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, work, ctx, oci) = (
        tmp.path().join("root"),
        tmp.path().join("work"),
        tmp.path().join("ctx"),
        tmp.path().join("oci"),
    );
    for d in [&root, &work, &ctx, &oci] {
        std::fs::create_dir_all(d).unwrap();
    }
    for arch in ["amd64", "arm64"] {
        std::fs::write(ctx.join(format!("{arch}.txt")), arch).unwrap();
    }
    let df =
        dockerfile::parse("FROM scratch\nARG TARGETARCH\nCOPY ${TARGETARCH}.txt /arch\n").unwrap();
    let context = engine::BuildContext::open(&ctx, None).unwrap();
    let source = std::sync::Arc::new(engine::source::LayoutSource::new(&oci));
    let mut opts = common::options(&root, &work);
    opts.materialize = true;
    let targets: Vec<engine::Target> = ["linux/amd64", "linux/arm64"]
        .iter()
        .map(|p| (image::Platform::parse(p).unwrap(), None))
        .collect();
    let after_each = |p: &image::Platform, _: &engine::BuiltImage, o: &BuildOptions| {
        let file = std::fs::read_to_string(o.root.join("arch")).unwrap_or_default();
        Ok((p.architecture.clone(), file))
    };
    let outputs = |built: Vec<(engine::BuiltImage, (String, String))>| async move {
        built.into_iter().map(|(_, seen)| seen).collect::<Vec<_>>()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let seen = rt
        .block_on(engine::build_targets(
            &df, &context, source, &targets, &opts, after_each, outputs,
        ))
        .unwrap();
    let want =
        [("amd64", "amd64"), ("arm64", "arm64")].map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(seen, want);
}
