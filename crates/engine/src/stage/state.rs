//! What a stage's steps receive: the build's shared parts (by reference) and the stage's
//! own state (its root, config, variables, layers and key chain).

use crate::built::{BuiltImage, Layer};
use crate::cache::LayerCache;
use crate::context::BuildContext;
use crate::key::{CacheKey, KeyChain};
use crate::root::BuildRoot;
use crate::source::ImageSource;
use crate::stage::files::StageFiles;
use crate::steps::meta::MetaState;
use crate::{user, BuildError, BuildOptions};
use dockerfile::{Dockerfile, GlobalScope, StageScope};
use image::{History, ImageConfig};

/// The shared parts of a build each stage uses.
pub struct Shared<'a> {
    pub df: &'a Dockerfile,
    pub opts: &'a BuildOptions,
    pub ctx: &'a BuildContext,
    pub source: &'a dyn ImageSource,
    pub deps: &'a StageFiles,
    pub global: &'a GlobalScope,
    pub cache: Option<&'a LayerCache>,
}

/// Everything the stage's steps read and change.
pub struct StageState<'a> {
    /// The build's shared parts.
    pub sh: &'a Shared<'a>,
    /// The stage's index: only earlier stages are visible to it.
    pub index: usize,
    pub root: &'a mut BuildRoot,
    pub config: ImageConfig,
    pub meta: MetaState,
    pub scope: StageScope,
    pub layers: Vec<Layer>,
    pub created: String,
    pub keys: KeyChain,
    /// The layer cache, when on for this stage.
    pub cache: Option<&'a LayerCache>,
    /// How many of `layers` the root holds, with a snapshot table of them; `None` before
    /// the stage unpacked anything.
    pub on_disk: Option<usize>,
    /// Where this stage's new layers are streamed while written (stages of the final image).
    pub uploads: Option<crate::Uploads>,
}

/// What a stage hands on: its image, the key of its last step, how many of its layers
/// the root holds (`None`: the stage never needed its files), and its variables.
#[derive(Clone)]
pub struct StageOutput {
    pub image: BuiltImage,
    pub key: CacheKey,
    pub on_disk: Option<usize>,
    pub scope: StageScope,
}

impl StageState<'_> {
    /// The tree `--from=<from>` reads: an earlier stage's files (by name or index), else
    /// an image's.
    pub async fn tree_from(&self, from: &str) -> Result<BuildContext, BuildError> {
        let sh = self.sh;
        match sh.df.stage_ref(self.index, from) {
            Some(i) => sh.deps.stage_tree(i, sh.source, sh.opts).await,
            None => sh.deps.image_tree(from, sh.source, sh.opts).await,
        }
    }

    /// The owner of directories WORKDIR creates: the stage's USER, if any.
    pub fn user_owner(&self) -> Result<Option<(u32, u32)>, user::UserError> {
        match self.config.config.user.as_deref() {
            None | Some("") => Ok(None),
            Some(u) => user::resolve_user(self.root, u).map(|id| Some((id.uid, id.gid))),
        }
    }

    /// A history entry; a URL's credentials in the instruction are not kept (the image is
    /// published, and ADD's URL may hold a user, password or token).
    pub(crate) fn history(&mut self, created_by: String, empty_layer: bool) {
        self.config.history.push(History {
            created: Some(self.created.clone()),
            created_by: Some(redact::urls_in(&created_by)),
            author: Some("kaniko".into()),
            comment: None,
            empty_layer,
        });
    }
}
