//! The built image comes from the engine; outputs read it.

pub use engine::{BuiltImage, Finished, Layer, LayerSource};
