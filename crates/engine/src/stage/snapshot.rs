//! A stage's snapshot after a step: the changes taken off the blocking pool, written as a
//! layer (streamed to the build's uploads for stages of the final image), or an empty
//! history entry when nothing changed.

use super::state::StageState;
use crate::built::{new_layer_type, Layer, LayerSource};
use crate::upload::SinkWriter;
use crate::BuildError;
use image::{Descriptor, Format};
use std::path::PathBuf;
use tracing::field::Empty;
use tracing::{info, info_span, Span};

impl StageState<'_> {
    /// Takes a snapshot (of `paths`, or of everything) and appends a layer, or an empty
    /// history entry when nothing changed.
    pub(crate) async fn snapshot(
        &mut self,
        paths: Option<Vec<PathBuf>>,
        created_by: String,
    ) -> Result<(), BuildError> {
        if self.sh.opts.single_snapshot && created_by != "single snapshot" {
            self.history(created_by, false);
            return Ok(());
        }
        let root = self.root.dir().to_path_buf();
        let layer_opts = self.sh.opts.layer.clone();
        let work = self.sh.opts.work_dir.clone();
        let uploads = self.uploads.clone();
        let parent = Span::current();
        let blob = self
            .root
            .with_snapshotter(move |snap| -> Result<Option<rootfs::LayerBlob>, rootfs::Error> {
                let span = info_span!(parent: &parent, "Snapshotting FS", kaniko.files = Empty, kaniko.files.deleted = Empty);
                let changes = match &paths {
                    Some(p) => span.in_scope(|| snap.take_paths(p))?,
                    None => span.in_scope(|| snap.take_full())?,
                };
                span.record("kaniko.files", changes.entries.len());
                span.record("kaniko.files.deleted", changes.deleted.len());
                drop(span);
                if changes.is_empty() {
                    return Ok(None);
                }
                let span = info_span!(parent: &parent, "Compressing layer", kaniko.files = changes.entries.len(), bytes = Empty);
                let blob = span.in_scope(|| write_streamed(&root, &changes, &layer_opts, &work, uploads))?;
                span.record("bytes", blob.size);
                Ok(Some(blob))
            })
            .await
            .map_err(BuildError::task)?;
        match blob? {
            None => {
                info!("No files were changed, appending empty layer to config. No layer added to image.");
                self.history(created_by, true);
            }
            Some(blob) => {
                self.layers.push(new_layer(blob));
                self.history(created_by, false);
            }
        }
        Ok(())
    }
}

/// Writes a layer, streaming it to `uploads` as it is written when given.
fn write_streamed(
    root: &std::path::Path,
    changes: &rootfs::Changes,
    opts: &rootfs::LayerOptions,
    work: &std::path::Path,
    uploads: Option<crate::Uploads>,
) -> Result<rootfs::LayerBlob, rootfs::Error> {
    let Some(sink) = uploads.and_then(|u| u.0.begin()) else {
        return rootfs::write_layer(root, changes, opts, work);
    };
    let mut tee = SinkWriter::new(sink);
    let blob = rootfs::write_layer_to(root, changes, opts, work, Some(&mut tee))?;
    tee.finish(&blob.digest);
    Ok(blob)
}

/// A layer written by this build.
fn new_layer(blob: rootfs::LayerBlob) -> Layer {
    Layer {
        desc: Descriptor {
            media_type: new_layer_type(Format::Oci, blob.compression).to_string(),
            digest: blob.digest,
            size: blob.size,
            urls: None,
            annotations: None,
            platform: None,
        },
        diff_id: blob.diff_id.clone(),
        source: LayerSource::Local(blob.path),
    }
}
