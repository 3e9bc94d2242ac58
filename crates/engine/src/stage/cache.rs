//! A stage's use of the layer cache. A filesystem step whose key hits takes the cached
//! layer (or "no change") and its effect on the config instead of running; nothing is
//! unpacked for it. The root catches up only when a step must really run: the layers not
//! yet on disk (the base's, then cached ones) are unpacked through the contained extractor
//! and a new snapshot baseline is taken. A stage whose every step hits is never unpacked,
//! unless `--materialize` asks for the final filesystem. After a step ran, its result is
//! stored under its key on a task of its own.

use super::{StageOutput, StageState};
use crate::built::{new_layer_type, BuiltImage};
use crate::key::CacheKey;
use crate::options::UnpackLimits;
use crate::root::BuildRoot;
use crate::source::ImageSource;
use crate::steps::{self, meta};
use crate::BuildError;
use dockerfile::{Command, Instruction};
use image::Format;
use tracing::{info, info_span, Instrument, Span};

impl StageState<'_> {
    /// Makes the root hold every layer so far, with a snapshot baseline of it.
    pub(crate) async fn ensure_fs(&mut self, cmd: &Command) -> Result<(), BuildError> {
        if self.on_disk == Some(self.layers.len()) {
            return Ok(());
        }
        match self.on_disk {
            None => info!("Unpacking rootfs as cmd {} requires it.", cmd.original),
            Some(_) => info!("Found cached layer, extracting to filesystem"),
        }
        let have = self.on_disk.unwrap_or(0);
        let limits = self.sh.opts.unpack;
        catch_up(self.sh.source, &self.layers[have..], self.root, limits).await?;
        self.on_disk = Some(self.layers.len());
        Ok(())
    }

    /// On a hit for `key`, applies the cached layers and the step's config change and
    /// returns true; false when the step must run. The step's span gets the key and
    /// whether it hit.
    pub(crate) async fn use_cached(
        &mut self,
        cmd: &Command,
        instr: &Instruction,
        key: &CacheKey,
    ) -> bool {
        let Some(cache) = self.cache.filter(|c| c.caches(instr)) else {
            return false;
        };
        let span = Span::current();
        span.record("kaniko.cache.key", key.to_string());
        let hit = self.apply_cached(cache, cmd, instr, key).await;
        span.record("kaniko.cache.hit", hit);
        hit
    }

    async fn apply_cached(
        &mut self,
        cache: &crate::cache::LayerCache,
        cmd: &Command,
        instr: &Instruction,
        key: &CacheKey,
    ) -> bool {
        let Some(layers) = cache.lookup(key, &cmd.original).await else {
            return false;
        };
        // A layer compressed otherwise than this build's layers would mix formats.
        let want = new_layer_type(Format::Oci, self.sh.opts.layer.compression);
        if layers
            .iter()
            .any(|l| Format::Oci.convert_layer_type(&l.desc.media_type) != want)
        {
            info!("The cached layer is not compressed as --compression asks; running the step");
            return false;
        }
        let env = self.scope.env();
        meta::apply(&mut self.config, &mut self.meta, instr, &env);
        if let Instruction::Workdir(dir) = instr {
            let current = self.config.config.working_dir.clone().unwrap_or_default();
            self.config.config.working_dir = Some(steps::workdir_path(&current, dir));
        }
        let empty = layers.is_empty();
        self.layers.extend(layers);
        self.history(cmd.original.clone(), empty);
        true
    }

    /// Stores what the step that just ran produced (the layers after `before`).
    pub(crate) fn store_result(
        &self,
        cmd: &Command,
        instr: &Instruction,
        key: &CacheKey,
        before: usize,
    ) {
        if let Some(cache) = self.cache.filter(|c| c.caches(instr)) {
            let layer = self.layers[before..].last().cloned();
            cache.store(key.clone(), layer, cmd.original.clone());
        }
    }

    /// The key of a step whose inputs could not be known before it ran: what it produced.
    pub(crate) fn output_key(&self, instr: &Instruction, before: usize) -> CacheKey {
        let produced: Vec<String> = self.layers[before..]
            .iter()
            .map(|l| format!("output {}", l.diff_id))
            .collect();
        self.keys.key(instr, &produced)
    }
}

/// Unpacks `layers` over the root and takes a fresh snapshot baseline.
async fn catch_up(
    source: &dyn ImageSource,
    layers: &[crate::built::Layer],
    root: &mut BuildRoot,
    limits: UnpackLimits,
) -> Result<(), BuildError> {
    let bytes: u64 = layers.iter().map(|l| l.desc.size).sum();
    let span = info_span!("FS Unpacking", kaniko.layers = layers.len(), bytes);
    crate::unpack::unpack(source, layers, root, limits)
        .instrument(span)
        .await?;
    let span = info_span!("Initial FS snapshot");
    root.with_snapshotter(move |snap| span.in_scope(|| snap.init_from_walk()))
        .await
        .map_err(BuildError::task)??;
    Ok(())
}

/// `--materialize`: makes the root hold the final stage's whole filesystem.
pub(crate) async fn materialize(
    source: &dyn ImageSource,
    out: &mut StageOutput,
    root: &mut BuildRoot,
    limits: UnpackLimits,
) -> Result<(), BuildError> {
    let image: &BuiltImage = &out.image;
    let have = out.on_disk.unwrap_or(0);
    if out.on_disk == Some(image.layers.len()) {
        return Ok(());
    }
    info!("Materializing the final filesystem");
    catch_up(source, &image.layers[have..], root, limits).await?;
    out.on_disk = Some(image.layers.len());
    Ok(())
}
