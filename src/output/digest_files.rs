//! `--digest-file`, `--image-name-with-digest-file`, `--image-name-tag-with-digest-file`.

use super::OutputError;
use image::Digest;
use registry::Reference;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Default)]
pub struct DigestFiles {
    pub digest: Option<PathBuf>,
    pub name_with_digest: Option<PathBuf>,
    pub name_tag_with_digest: Option<PathBuf>,
}

/// Writes each requested file (atomically: a temp file renamed into place).
pub fn write_digest_files(
    files: &DigestFiles,
    digest: &Digest,
    destinations: &[Reference],
) -> Result<(), OutputError> {
    if let Some(p) = &files.digest {
        write_atomic(p, digest.as_str())?;
    }
    if let Some(p) = &files.name_with_digest {
        let lines: Vec<String> = destinations
            .iter()
            .map(|d| format!("{}@{digest}", d.repo_str()))
            .collect();
        write_atomic(p, &lines.join("\n"))?;
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
        write_atomic(p, &lines.join("\n"))?;
    }
    Ok(())
}

fn write_atomic(path: &Path, content: &str) -> Result<(), OutputError> {
    let err = |e| OutputError::Io(path.to_path_buf(), e);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, content).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}
