//! `--digest-file`, `--image-name-with-digest-file`, `--image-name-tag-with-digest-file`.

use super::OutputError;
use image::Digest;
use registry::Reference;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default)]
pub struct DigestFiles {
    pub digest: Option<PathBuf>,
    pub name_with_digest: Option<PathBuf>,
    pub name_tag_with_digest: Option<PathBuf>,
}

/// Writes each requested file (called only after every push succeeded).
pub fn write_digest_files(
    files: &DigestFiles,
    digest: &Digest,
    destinations: &[Reference],
) -> Result<(), OutputError> {
    if let Some(p) = &files.digest {
        write_in_place(p, digest.as_str())?;
    }
    if let Some(p) = &files.name_with_digest {
        let lines: Vec<String> = destinations
            .iter()
            .map(|d| format!("{}@{digest}", d.repo_str()))
            .collect();
        write_in_place(p, &lines_of(&lines))?;
    }
    if let Some(p) = &files.name_tag_with_digest {
        let lines: Vec<String> = destinations
            .iter()
            .map(|d| {
                format!(
                    "{}:{}@{digest}",
                    d.repo_str(),
                    d.tag.as_deref().unwrap_or("latest")
                )
            })
            .collect();
        write_in_place(p, &lines_of(&lines))?;
    }
    Ok(())
}

/// Each line ends with a newline, as kaniko writes these files.
fn lines_of(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Opens `path` (made with its parent directories if missing), truncates it and writes:
/// no temporary file renamed into place, because the path is often a bind-mounted file
/// (`/dev/termination-log` in Kubernetes) that cannot be replaced, only written.
pub(super) fn write_in_place(path: &Path, content: &str) -> Result<(), OutputError> {
    let err = |e| OutputError::Io(path.to_path_buf(), e);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(err)?;
    f.write_all(content.as_bytes()).map_err(err)?;
    f.flush().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_through_the_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("termination-log");
        std::fs::write(&path, "a much longer old content that must go").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let d = Digest::sha256(b"x");
        let files = DigestFiles {
            digest: Some(link.clone()),
            ..DigestFiles::default()
        };
        write_digest_files(&files, &d, &[]).unwrap();
        // Written through the link into the same file, not a new file replacing it.
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), d.as_str());
        let nested = dir.path().join("new/dir/digest");
        let files = DigestFiles {
            digest: Some(nested.clone()),
            ..DigestFiles::default()
        };
        write_digest_files(&files, &d, &[]).unwrap();
        assert_eq!(std::fs::read_to_string(nested).unwrap(), d.as_str());
    }

    #[test]
    fn name_files_end_each_line_with_a_newline() {
        let dir = tempfile::tempdir().unwrap();
        let d = Digest::sha256(b"x");
        let dests: Vec<Reference> = ["r.io/a:1", "r.io/b"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let files = DigestFiles {
            digest: Some(dir.path().join("digest")),
            name_with_digest: Some(dir.path().join("names")),
            name_tag_with_digest: Some(dir.path().join("tags")),
        };
        write_digest_files(&files, &d, &dests).unwrap();
        let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap();
        // The digest file has no newline (kaniko writes the bare digest).
        assert_eq!(read("digest"), d.as_str());
        assert_eq!(read("names"), format!("r.io/a@{d}\nr.io/b@{d}\n"));
        assert_eq!(read("tags"), format!("r.io/a:1@{d}\nr.io/b:latest@{d}\n"));
    }
}
