//! The change-detection corpus through real RUNs (busybox in a temporary root): each RUN
//! makes one kind of change and its layer must hold exactly the names a full walk gives
//! (changed paths with their parent directories, whiteouts for deletions). The same corpus
//! at the snapshotter's level, with xattrs and capabilities, is
//! `crates/rootfs/tests/change_corpus.rs`.

mod common;

use common::{build, layer_files};

/// One RUN and the names its layer must hold (none: no layer at all).
const STEPS: &[(&str, &[&str])] = &[
    (
        "bb mkdir -p /d/sub /e /t/x && echo aaaa > /d/sub/f && echo hh > /d/h && bb ln /d/h /e/h2 && echo g > /d/g && echo y > /t/x/y && bb touch -d '2020-01-01 00:00:00' /d/sub/f",
        &["d/", "d/g", "d/h", "d/sub/", "d/sub/f", "e/", "e/h2", "t/", "t/x/", "t/x/y"],
    ),
    // Same size, same mtime: only the ctime tells.
    (
        "echo bbbb > /d/sub/f && bb touch -d '2020-01-01 00:00:00' /d/sub/f",
        &["d/", "d/sub/", "d/sub/f"],
    ),
    ("bb chmod 600 /d/g", &["d/", "d/g"]),
    ("bb chown 5:5 /d/sub", &["d/", "d/sub/"]),
    // Written through one name of a hard link: both names changed.
    ("echo HH > /e/h2", &["d/", "d/h", "e/", "e/h2"]),
    ("bb rm /d/g", &["d/", "d/.wh.g"]),
    ("bb rm -r /t/x && echo file > /t/x", &["t/", "t/x"]),
    // The other name of /d/h lost a link: its ctime changed.
    (
        "bb rm /d/h && bb mkdir /d/h && echo z > /d/h/z",
        &["d/", "d/h/", "d/h/z", "e/", "e/h2"],
    ),
    ("bb mv /t /u", &[".wh.t", "u/", "u/x"]),
    ("bb ln -s /u/x /d/l", &["d/", "d/l"]),
    ("bb mkfifo /d/p", &["d/", "d/p"]),
    ("true", &[]),
    (
        "bb mkdir /d/sub/new && echo n > /d/sub/new/n && bb rm /d/sub/f",
        &["d/", "d/sub/", "d/sub/.wh.f", "d/sub/new/", "d/sub/new/n"],
    ),
];

#[test]
fn each_run_layer_holds_exactly_what_changed() {
    let mut df = String::from("FROM base\n");
    for (run, _) in STEPS {
        df.push_str(&format!("RUN bb() {{ /bin/busybox \"$@\"; }}; {run}\n"));
    }
    let (image, _tmp) = build(&df, &[]);
    let mut layer = 1;
    let history = &image.config.history;
    assert_eq!(history.len(), STEPS.len());
    for ((run, want), h) in STEPS.iter().zip(history) {
        if want.is_empty() {
            assert!(h.empty_layer, "{run}: a layer was added");
            continue;
        }
        assert!(!h.empty_layer, "{run}: no layer");
        let got = layer_files(&image, layer);
        let names: Vec<&str> = got.keys().map(String::as_str).collect();
        assert_eq!(names, *want, "{run}");
        layer += 1;
    }
    assert_eq!(layer, image.layers.len());
}
