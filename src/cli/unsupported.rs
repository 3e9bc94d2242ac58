//! Flags that parse but whose features are not built yet, one table per command: each row
//! is a flag and a predicate saying whether the options use it. Delete a row when its
//! feature lands; the run fails at start with `flag --x is not supported yet`.

use super::options::{CacheOptions, Options, WarmerOptions};

type Row<T> = (&'static str, fn(&T) -> bool);

const EXECUTOR: &[Row<Options>] = &[
    ("--cache", |o| o.cache.enabled),
    ("--cache-repo", |o| o.cache.repo.is_some()),
    ("--cache-dir", |o| {
        o.cache.dir != CacheOptions::default().dir
    }),
    ("--cache-ttl", |o| {
        o.cache.ttl != CacheOptions::default().ttl
    }),
    ("--cache-copy-layers", |o| o.cache.copy_layers),
    ("--cache-run-layers", |o| !o.cache.run_layers),
    ("--compressed-caching", |o| !o.cache.compressed),
    ("--no-push-cache", |o| o.cache.no_push_cache),
    ("--materialize", |o| o.materialize),
    ("--credential-helpers", |o| {
        o.registry.credential_helpers.is_some()
    }),
];

// Used once main runs the warmer.
#[allow(dead_code)]
const WARMER: &[Row<WarmerOptions>] = &[
    ("--dockerfile", |o| o.dockerfile.is_some()),
    ("--credential-helpers", |o| {
        o.registry.credential_helpers.is_some()
    }),
];

/// The executor flags in use whose features are not built yet, in table order.
pub fn unsupported_flags(o: &Options) -> Vec<&'static str> {
    EXECUTOR
        .iter()
        .filter(|(_, used)| used(o))
        .map(|(name, _)| *name)
        .collect()
}

/// The warmer flags in use whose features are not built yet, in table order.
#[allow(dead_code)]
pub fn unsupported_warmer_flags(o: &WarmerOptions) -> Vec<&'static str> {
    WARMER
        .iter()
        .filter(|(_, used)| used(o))
        .map(|(name, _)| *name)
        .collect()
}
