//! A cache entry as an image: an OCI manifest with zero or one layer and a config whose
//! `created` is when the entry was written (always the real time, even for reproducible
//! builds, since `--cache-ttl` counts from it) and whose history names the step.

use crate::built::{BuiltImage, Finished, Layer};
use crate::clock;
use crate::key::CacheKey;
use crate::source::SourceImage;
use image::{Format, History, ImageConfig, Platform};
use std::time::SystemTime;

/// An entry found in a store.
pub(crate) struct Entry {
    pub layers: Vec<Layer>,
    /// When it was written; `None` when its config does not say (never fresh).
    pub created: Option<SystemTime>,
}

impl Entry {
    pub fn of(img: SourceImage) -> Entry {
        Entry {
            created: img.config.created.as_deref().and_then(clock::parse_rfc3339),
            layers: img.layers,
        }
    }
}

/// An entry to write.
pub(crate) struct NewEntry {
    pub key: CacheKey,
    pub image: BuiltImage,
    pub finished: Finished,
}

impl NewEntry {
    pub fn new(
        key: CacheKey,
        layer: Option<Layer>,
        created_by: String,
        platform: &Platform,
    ) -> NewEntry {
        let now = clock::rfc3339(SystemTime::now(), true);
        let config = ImageConfig {
            architecture: platform.architecture.clone(),
            os: platform.os.clone(),
            variant: platform.variant.clone(),
            created: Some(now.clone()),
            history: vec![History {
                created: Some(now),
                created_by: Some(created_by),
                author: Some("kaniko".into()),
                comment: None,
                empty_layer: layer.is_none(),
            }],
            ..Default::default()
        };
        let image = BuiltImage {
            format: Format::Oci,
            config,
            layers: layer.into_iter().collect(),
            annotations: Default::default(),
        };
        let finished = image.finish();
        NewEntry {
            key,
            image,
            finished,
        }
    }

    /// The tag or name the entry goes under: the key's hex digits.
    pub fn tag(&self) -> String {
        self.key.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_entry_is_an_image_without_layers_created_now() {
        let key = CacheKey(image::Digest::sha256(b"k"));
        let p = Platform::parse("linux/arm64/v8").unwrap();
        let e = NewEntry::new(key, None, "RUN true".into(), &p);
        assert!(e.finished.manifest.layers.is_empty());
        let config: ImageConfig = serde_json::from_slice(&e.finished.config).unwrap();
        assert_eq!(config.architecture, "arm64");
        assert_eq!(config.variant.as_deref(), Some("v8"));
        assert!(config.history[0].empty_layer);
        let created = clock::parse_rfc3339(config.created.as_deref().unwrap()).unwrap();
        let age = SystemTime::now().duration_since(created).unwrap();
        assert!(age.as_secs() < 60);
        assert_eq!(e.tag().len(), 64);
    }
}
