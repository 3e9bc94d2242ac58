//! `$BUILDER_OUTPUT/images`, as kaniko writes it for Google Cloud Build (and Skaffold's
//! Cloud Build mode), which turn it into the build's image results: one JSON object per
//! destination and line, `{"name":"<destination as given>","digest":"sha256:…"}`. Written
//! only after every destination was pushed.

use super::digest_files::write_in_place;
use super::OutputError;
use image::Digest;
use std::path::Path;

/// Writes `<dir>/images` for `destinations` (each as the user wrote it).
pub fn write_builder_output(
    dir: &Path,
    destinations: &[String],
    digest: &Digest,
) -> Result<(), OutputError> {
    let mut text = String::new();
    for d in destinations {
        let line = serde_json::json!({"name": d, "digest": digest.as_str()});
        text.push_str(&line.to_string());
        text.push('\n');
    }
    write_in_place(&dir.join("images"), &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_per_destination_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let d = Digest::sha256(b"x");
        let dests = ["gcr.io/foo/bar:latest".to_string(), "gcr.io/baz/qux".into()];
        write_builder_output(dir.path(), &dests, &d).unwrap();
        let got = std::fs::read_to_string(dir.path().join("images")).unwrap();
        assert_eq!(
            got,
            format!(
                "{{\"name\":\"gcr.io/foo/bar:latest\",\"digest\":\"{d}\"}}\n\
                 {{\"name\":\"gcr.io/baz/qux\",\"digest\":\"{d}\"}}\n"
            )
        );
    }
}
