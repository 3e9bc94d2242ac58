//! Flags that parse but whose features are not built yet, one table per command: each row
//! is a flag and a predicate saying whether the options use it. Delete a row when its
//! feature lands; the run fails at start with `flag --x is not supported yet`.

use super::options::{Options, WarmerOptions};

type Row<T> = (&'static str, fn(&T) -> bool);

// Every flag's feature is built; the tables stay for the next flag kaniko adds.
const EXECUTOR: &[Row<Options>] = &[];

const WARMER: &[Row<WarmerOptions>] = &[];

/// The executor flags in use whose features are not built yet, in table order.
pub fn unsupported_flags(o: &Options) -> Vec<&'static str> {
    EXECUTOR
        .iter()
        .filter(|(_, used)| used(o))
        .map(|(name, _)| *name)
        .collect()
}

/// The warmer flags in use whose features are not built yet, in table order.
pub fn unsupported_warmer_flags(o: &WarmerOptions) -> Vec<&'static str> {
    WARMER
        .iter()
        .filter(|(_, used)| used(o))
        .map(|(name, _)| *name)
        .collect()
}
