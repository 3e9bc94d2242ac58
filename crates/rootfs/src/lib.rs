//! The build filesystem: unpacking layers over a root directory (contained, with whiteouts
//! and the ignore list), snapshots that compare metadata against the previous walk, and
//! layer blobs written as tar → compress → hash in one streaming pass.

mod compress;
mod error;
mod extract;
mod fsops;
mod ignore;
mod incompressible;
mod layer;
mod layer_stream;
mod pipeline;
mod resolve;
mod snapshot;
mod table;
mod tarwriter;
mod walk;

pub use compress::{decompressor, Compression};
pub use error::Error;
pub use extract::{extract_layer, extract_tar, ExtractOptions, ExtractStats};
pub use fsops::{clean_root, remove_any};
pub use ignore::IgnoreList;
pub use layer::{write_layer, write_layer_to, LayerBlob, LayerOptions};
pub use layer_stream::LayerStream;
pub use pipeline::{ParallelGzWriter, ReadAhead};
pub use resolve::{host_path, resolve_in_root};
pub use snapshot::{Changes, SnapshotMode, Snapshotter};
pub use table::FileTable;
