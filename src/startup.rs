//! What the executor takes from its own process at start, before any base image is unpacked
//! over the root and before any RUN runs beside it:
//!
//! - it becomes non-dumpable (`PR_SET_DUMPABLE` 0), first thing in `main`, so that a
//!   process of the same user without CAP_SYS_PTRACE (a RUN in a default container) can
//!   read none of its `/proc/<pid>/environ`, `mem`, `maps`, `fd/`, nor attach to it;
//! - the name-resolution configuration (`/etc/hosts`, `/etc/resolv.conf`) is read once
//!   ([`resolve::Resolver`]), so an image's files never redirect or load anything;
//! - the environment is read once; the credentials only the executor consumes are then
//!   removed from it ([`Startup::forget_secrets`]), so no program it starts inherits them.
//!   `/proc/<pid>/environ` keeps showing the block the process started with: being
//!   non-dumpable is what keeps it from the payload.

use std::collections::BTreeMap;

/// Makes the process non-dumpable; false if the kernel refused (then it says so later).
pub fn forbid_inspection() -> bool {
    // SAFETY: prctl(PR_SET_DUMPABLE) takes plain integers and touches no memory of ours.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 }
}

/// Whether the process is non-dumpable.
pub fn inspection_forbidden() -> bool {
    // SAFETY: as above.
    unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 }
}

/// Credentials read only by the executor itself (the git context and `ADD <git URL>`, the
/// built-in `gitlab` and `env` helpers), removed from its environment once read.
/// AWS, Azure and Google variables stay: credential helper programs a Docker config names
/// (`docker-credential-ecr-login`, `-acr-env`, `-gcr`) read them from the environment they
/// inherit.
const CONSUMED: [&str; 5] = [
    "GIT_TOKEN",
    "GIT_PASSWORD",
    "CI_JOB_TOKEN",
    "CI_REGISTRY_PASSWORD",
    "CI_DEPENDENCY_PROXY_PASSWORD",
];

/// The environment and the resolver, as they were at start.
pub struct Startup {
    pub resolver: resolve::Resolver,
    env: BTreeMap<String, String>,
}

impl Startup {
    /// Reads the environment now; `resolver` was made from the name-resolution files at start.
    pub fn capture(resolver: resolve::Resolver) -> Startup {
        Startup {
            resolver,
            env: std::env::vars().collect(),
        }
    }

    /// A variable as it was at start.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    /// Every variable as it was at start.
    pub fn vars(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.env.iter().map(|(k, v)| (k.clone(), v.clone()))
    }

    /// Removes the consumed credentials from the process environment, and `extra` (the
    /// variables `--secret id=X,env=VAR` read). Call it before any thread starts: the
    /// environment is not safe to change while another thread reads it.
    pub fn forget_secrets(&self, extra: &[&str]) -> Vec<String> {
        let names: Vec<String> = self
            .env
            .keys()
            .filter(|k| {
                CONSUMED.contains(&k.as_str())
                    || extra.contains(&k.as_str())
                    || (k.starts_with("KANIKO_") && k.ends_with("_PASSWORD"))
            })
            .cloned()
            .collect();
        for k in &names {
            std::env::remove_var(k);
        }
        names
    }
}
