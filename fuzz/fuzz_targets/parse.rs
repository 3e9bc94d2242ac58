//! Fuzz target: arbitrary bytes (lossy UTF-8) through `parse`, then `plan` for the last
//! stage and for each named stage, and the expansion lexer on the raw text (word, words,
//! heredoc body). Nothing may panic, hang or grow without bound.
//!
//! `cd fuzz && cargo +nightly fuzz run parse -- -max_total_time=600` (cargo-fuzz sets its
//! own RUSTFLAGS, so the main workspace's crt-static setting does not apply here). Seed
//! `corpus/parse/` with the Dockerfiles of `testdata/dockerfile/*.cases` for a faster start.

#![no_main]

use dockerfile::{expand_heredoc, expand_word, expand_words, BuildArgs, PlatformArgs};
use libfuzzer_sys::fuzz_target;

fn platform() -> PlatformArgs {
    PlatformArgs {
        target_os: "linux".into(),
        target_arch: "arm64".into(),
        target_variant: "v8".into(),
        build_os: "linux".into(),
        build_arch: "amd64".into(),
        build_variant: String::new(),
    }
}

fn lookup(k: &str) -> Option<String> {
    match k {
        "A" => Some("hello world".into()),
        "E" => Some(String::new()),
        _ => None,
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let args = BuildArgs::new([("A".to_string(), "x".to_string())]);
    if let Ok(df) = dockerfile::parse(&text) {
        let _ = dockerfile::plan(&df, &args, &platform(), None);
        for name in df.stages.iter().filter_map(|s| s.name.as_deref()).take(4) {
            let _ = dockerfile::plan(&df, &args, &platform(), Some(name));
        }
    }
    let _ = expand_word(&text, '\\', &lookup);
    let _ = expand_words(&text, '`', &lookup);
    let _ = expand_heredoc(&text, &lookup);
});
