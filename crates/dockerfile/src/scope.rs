//! Variables through a build, as BuildKit keeps them: global ARGs (before the first FROM,
//! visible in FROM lines), build args, the predefined proxy and platform args, and per stage
//! one list of variables that every ENV and every ARG with a value sets in turn (the
//! latest wins, so an ARG after an ENV of the same name overrides it for expansion and
//! RUN, though the image's Env keeps the ENV). A stage built `FROM` an earlier stage starts
//! with that stage's list, ARG values included (BuildKit's `dispatchState.init`); a stage
//! `FROM` an image starts with the image's Env only. Expansion happens at execution time,
//! where Docker applies it (`instr` expands each instruction).

use crate::expand::expand_word;
use crate::model::*;
use crate::Error;
use std::collections::{BTreeMap, HashMap};

/// `--build-arg` values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildArgs {
    values: BTreeMap<String, String>,
}

impl BuildArgs {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        BuildArgs {
            values: pairs.into_iter().collect(),
        }
    }

    pub fn get(&self, k: &str) -> Option<&String> {
        self.values.get(k)
    }
}

/// The platform the build targets and runs on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlatformArgs {
    pub target_os: String,
    pub target_arch: String,
    pub target_variant: String,
    pub build_os: String,
    pub build_arch: String,
    pub build_variant: String,
}

/// The proxy variables a build passes to every RUN from build args (BuildKit's
/// `proxyEnvFromBuildArgs`), each also spelled in lower case. They never decide a step's
/// cache key.
pub const PROXY_KINDS: [&str; 5] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
];

/// Whether `name` is a proxy variable: one of [`PROXY_KINDS`] in upper or lower case.
pub fn is_proxy_var(name: &str) -> bool {
    PROXY_KINDS
        .iter()
        .any(|k| name == *k || name == k.to_ascii_lowercase())
}

impl PlatformArgs {
    fn values(&self) -> Vec<(String, String)> {
        let plat = |os: &str, arch: &str, v: &str| {
            if v.is_empty() {
                format!("{os}/{arch}")
            } else {
                format!("{os}/{arch}/{v}")
            }
        };
        vec![
            (
                "TARGETPLATFORM".into(),
                plat(&self.target_os, &self.target_arch, &self.target_variant),
            ),
            ("TARGETOS".into(), self.target_os.clone()),
            ("TARGETARCH".into(), self.target_arch.clone()),
            ("TARGETVARIANT".into(), self.target_variant.clone()),
            (
                "BUILDPLATFORM".into(),
                plat(&self.build_os, &self.build_arch, &self.build_variant),
            ),
            ("BUILDOS".into(), self.build_os.clone()),
            ("BUILDARCH".into(), self.build_arch.clone()),
            ("BUILDVARIANT".into(), self.build_variant.clone()),
        ]
    }
}

/// The proxy variables every RUN gets from build args, declared or not, as BuildKit's
/// `proxyEnvFromBuildArgs` and its exec op do: a build arg whose name is one of these in
/// any case sets both spellings (in name order, so a lower-case name given beside the
/// upper-case one wins), after the stage's own variables.
fn proxy_env(build_args: &BuildArgs) -> Vec<(String, String)> {
    let mut values: [Option<&String>; 5] = [None; 5];
    for (k, v) in &build_args.values {
        if let Some(i) = PROXY_KINDS.iter().position(|p| p.eq_ignore_ascii_case(k)) {
            values[i] = Some(v);
        }
    }
    let mut out = Vec::new();
    for (kind, v) in PROXY_KINDS.iter().zip(values) {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            out.push((kind.to_string(), v.clone()));
            out.push((kind.to_ascii_lowercase(), v.clone()));
        }
    }
    out
}

/// Global ARGs, with build args applied and the predefined args.
#[derive(Clone, Debug)]
pub struct GlobalScope {
    pub(crate) escape: char,
    /// Values of global ARGs (declared before the first FROM).
    globals: BTreeMap<String, Option<String>>,
    /// Predefined args: platform, and proxies given as build args.
    predefined: BTreeMap<String, String>,
    /// What every RUN's environment gets from proxy build args ([`proxy_env`]).
    proxies: Vec<(String, String)>,
    pub(crate) build_args: BuildArgs,
}

impl GlobalScope {
    pub fn new(
        meta_args: &[ArgDecl],
        build_args: &BuildArgs,
        platform: &PlatformArgs,
    ) -> Result<GlobalScope, Error> {
        Self::with_escape(meta_args, build_args, platform, '\\')
    }

    pub fn with_escape(
        meta_args: &[ArgDecl],
        build_args: &BuildArgs,
        platform: &PlatformArgs,
        escape: char,
    ) -> Result<GlobalScope, Error> {
        let mut predefined: BTreeMap<String, String> = platform.values().into_iter().collect();
        // The predefined proxy ARGs (ALL_PROXY is not one here), in either spelling.
        for kind in PROXY_KINDS.iter().filter(|k| **k != "ALL_PROXY") {
            for p in [kind.to_string(), kind.to_ascii_lowercase()] {
                if let Some(v) = build_args.get(&p) {
                    predefined.insert(p, v.clone());
                }
            }
        }
        let mut g = GlobalScope {
            escape,
            globals: BTreeMap::new(),
            predefined,
            proxies: proxy_env(build_args),
            build_args: build_args.clone(),
        };
        for a in meta_args {
            let value = match (build_args.get(&a.name), &a.default) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(d)) => {
                    let lookup = |k: &str| g.lookup(k);
                    Some(
                        expand_word(d, escape, &lookup)
                            .map_err(|e| Error::new(0, format!("ARG {}: {e}", a.name)))?,
                    )
                }
                (None, None) => g.predefined.get(&a.name).cloned(),
            };
            g.globals.insert(a.name.clone(), value);
        }
        Ok(g)
    }

    /// A global ARG's value, or a predefined arg's.
    pub fn lookup(&self, k: &str) -> Option<String> {
        match self.globals.get(k) {
            Some(v) => v.clone(),
            None => self.predefined.get(k).cloned(),
        }
    }

    /// The stage's base image name, expanded with global args.
    pub fn expand_base(&self, stage: &Stage) -> Result<String, Error> {
        let lookup = |k: &str| self.lookup(k);
        let base = expand_word(&stage.base, self.escape, &lookup)
            .map_err(|e| Error::new(stage.line, e.to_string()))?;
        if base.is_empty() {
            return Err(Error::new(
                stage.line,
                format!("base name ({}) should not be blank", stage.base),
            ));
        }
        Ok(base)
    }

    /// The stage's platform flag, expanded.
    pub fn expand_platform(&self, stage: &Stage) -> Result<Option<String>, Error> {
        let lookup = |k: &str| self.lookup(k);
        stage
            .platform
            .as_ref()
            .map(|p| {
                expand_word(p, self.escape, &lookup)
                    .map_err(|e| Error::new(stage.line, e.to_string()))
            })
            .transpose()
    }
}

/// Names in first-set order with their latest values, found by hash (a stage with
/// thousands of ENV or ARG lines stays linear).
#[derive(Clone, Debug, Default)]
struct Ordered {
    items: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl Ordered {
    fn get(&self, k: &str) -> Option<&String> {
        self.index.get(k).map(|&i| &self.items[i].1)
    }

    /// Sets `k`, keeping its first position.
    fn set(&mut self, k: &str, v: &str) {
        match self.index.get(k) {
            Some(&i) => v.clone_into(&mut self.items[i].1),
            None => {
                self.index.insert(k.to_string(), self.items.len());
                self.items.push((k.to_string(), v.to_string()));
            }
        }
    }
}

/// Variables inside one stage.
#[derive(Clone, Debug)]
pub struct StageScope {
    pub(crate) escape: char,
    pub(crate) global: GlobalScope,
    /// The image config's Env: the base image's, then each ENV.
    env: Ordered,
    /// What expansion and RUN see: the base image's Env, then each ENV and each ARG that
    /// has a value, in instruction order.
    vars: Ordered,
}

impl StageScope {
    pub fn new(global: &GlobalScope, base_env: &[(String, String)]) -> StageScope {
        let mut env = Ordered::default();
        for (k, v) in base_env {
            env.set(k, v);
        }
        StageScope {
            escape: global.escape,
            global: global.clone(),
            vars: env.clone(),
            env,
        }
    }

    /// A variable's value: the latest ENV or ARG that set it.
    pub fn lookup(&self, k: &str) -> Option<String> {
        self.vars.get(k).cloned()
    }

    /// After `expand`: ENV sets a variable and the image's Env, an ARG with a value (its
    /// build arg, its expanded default or its global value) sets a variable.
    pub fn apply(&mut self, instr: &Instruction) {
        match instr {
            Instruction::Arg(args) => {
                for a in args {
                    if let Some(v) = &a.default {
                        self.vars.set(&a.name, v);
                    }
                }
            }
            Instruction::Env(kvs) => {
                for (k, v) in kvs {
                    self.env.set(k, v);
                    self.vars.set(k, v);
                }
            }
            _ => {}
        }
    }

    /// ENV values in order (what the image config gets).
    pub fn env(&self) -> Vec<(String, String)> {
        self.env.items.clone()
    }

    /// What a RUN sees: every variable set so far, ENV and ARG alike, then the proxy
    /// variables given as build args.
    pub fn run_env(&self) -> Vec<(String, String)> {
        if self.global.proxies.is_empty() {
            return self.vars.items.clone();
        }
        let mut vars = self.vars.clone();
        for (k, v) in &self.global.proxies {
            vars.set(k, v);
        }
        vars.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a build hands to the image config and to RUN after each instruction.
    #[test]
    fn env_for_the_image_and_for_run() {
        let df = crate::parse(
            "FROM busybox\nENV X=fromenv A=1\nARG X=fromarg\nARG B\nARG A\nARG C=$X-$B\n",
        )
        .unwrap();
        let build_args = BuildArgs::new([("B".to_string(), "b".to_string())]);
        let global = GlobalScope::new(&[], &build_args, &PlatformArgs::default()).unwrap();
        let mut scope = StageScope::new(&global, &[("PATH".into(), "/bin".into())]);
        for c in &df.stages[0].commands {
            let instr = scope.expand(c).unwrap();
            scope.apply(&instr);
        }
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            scope.env(),
            pairs(&[("PATH", "/bin"), ("X", "fromenv"), ("A", "1")])
        );
        assert_eq!(
            scope.run_env(),
            pairs(&[
                ("PATH", "/bin"),
                ("X", "fromarg"),
                ("A", "1"),
                ("B", "b"),
                ("C", "fromarg-b"),
            ])
        );
    }

    /// Proxy build args reach every RUN in both spellings, declared or not, and never the
    /// image's Env.
    #[test]
    fn proxy_build_args_reach_run() {
        let df = crate::parse("FROM busybox\nENV http_proxy=fromenv\n").unwrap();
        let build_args = BuildArgs::new(
            [
                ("http_proxy", "p"),
                ("NO_PROXY", "n"),
                ("HTTPS_PROXY", ""),
                ("X", "x"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let global = GlobalScope::new(&[], &build_args, &PlatformArgs::default()).unwrap();
        let mut scope = StageScope::new(&global, &[]);
        for c in &df.stages[0].commands {
            let instr = scope.expand(c).unwrap();
            scope.apply(&instr);
        }
        let run: Vec<String> = scope
            .run_env()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            run,
            ["http_proxy=p", "HTTP_PROXY=p", "NO_PROXY=n", "no_proxy=n"],
        );
        assert_eq!(
            scope.env(),
            vec![("http_proxy".to_string(), "fromenv".to_string())]
        );
    }
}
