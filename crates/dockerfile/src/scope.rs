//! Variables through a build: global ARGs (before the first FROM, visible in FROM lines),
//! build args, the predefined proxy and platform args, and per stage the declared ARGs and
//! ENV (ENV wins). Expansion happens here, at execution time, where Docker applies it.

use crate::expand::{expand_word, expand_words};
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

const PROXY_ARGS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
];

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

/// Global ARGs, with build args applied and the predefined args.
#[derive(Clone, Debug)]
pub struct GlobalScope {
    escape: char,
    /// Values of global ARGs (declared before the first FROM).
    globals: BTreeMap<String, Option<String>>,
    /// Predefined args: platform, and proxies given as build args.
    predefined: BTreeMap<String, String>,
    build_args: BuildArgs,
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
        for p in PROXY_ARGS {
            if let Some(v) = build_args.get(p) {
                predefined.insert(p.into(), v.clone());
            }
        }
        let mut g = GlobalScope {
            escape,
            globals: BTreeMap::new(),
            predefined,
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

    fn lookup(&self, k: &str) -> Option<String> {
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
struct Ordered<V> {
    items: Vec<(String, V)>,
    index: HashMap<String, usize>,
}

impl<V> Ordered<V> {
    fn get(&self, k: &str) -> Option<&V> {
        self.index.get(k).map(|&i| &self.items[i].1)
    }

    /// Sets `k`, keeping its first position.
    fn set(&mut self, k: &str, v: V) {
        match self.index.get(k) {
            Some(&i) => self.items[i].1 = v,
            None => {
                self.index.insert(k.to_string(), self.items.len());
                self.items.push((k.to_string(), v));
            }
        }
    }
}

/// Variables inside one stage.
#[derive(Clone, Debug)]
pub struct StageScope {
    escape: char,
    global: GlobalScope,
    env: Ordered<String>,
    args: Ordered<Option<String>>,
}

impl StageScope {
    pub fn new(global: &GlobalScope, base_env: &[(String, String)]) -> StageScope {
        let mut env = Ordered::default();
        for (k, v) in base_env {
            env.set(k, v.clone());
        }
        StageScope {
            escape: global.escape,
            global: global.clone(),
            env,
            args: Ordered::default(),
        }
    }

    /// ENV first, then the latest declaration of an ARG.
    pub fn lookup(&self, k: &str) -> Option<String> {
        match self.env.get(k) {
            Some(v) => Some(v.clone()),
            None => self.args.get(k).cloned().flatten(),
        }
    }

    fn word(&self, w: &str, line: usize) -> Result<String, Error> {
        let lookup = |k: &str| self.lookup(k);
        expand_word(w, self.escape, &lookup).map_err(|e| Error::new(line, e.to_string()))
    }

    fn words(&self, w: &str, line: usize) -> Result<Vec<String>, Error> {
        let lookup = |k: &str| self.lookup(k);
        expand_words(w, self.escape, &lookup).map_err(|e| Error::new(line, e.to_string()))
    }

    fn opt(&self, w: &Option<String>, line: usize) -> Result<Option<String>, Error> {
        w.as_ref().map(|w| self.word(w, line)).transpose()
    }

    /// The instruction with its words expanded where Docker expands them.
    pub fn expand(&self, cmd: &Command) -> Result<Instruction, Error> {
        let l = cmd.line;
        Ok(match &cmd.instruction {
            Instruction::Env(kvs) => Instruction::Env(self.pairs(kvs, l)?),
            Instruction::Label(kvs) => Instruction::Label(self.pairs(kvs, l)?),
            Instruction::Arg(args) => Instruction::Arg(
                args.iter()
                    .map(|a| {
                        Ok(ArgDecl {
                            name: a.name.clone(),
                            default: self.opt(&a.default, l)?,
                        })
                    })
                    .collect::<Result<_, Error>>()?,
            ),
            Instruction::Expose(ports) => {
                let mut out = Vec::new();
                for p in ports {
                    out.extend(self.words(p, l)?);
                }
                Instruction::Expose(out)
            }
            Instruction::Volume(v) => Instruction::Volume(
                v.iter()
                    .map(|w| self.word(w, l))
                    .collect::<Result<_, _>>()?,
            ),
            Instruction::User(u) => Instruction::User(self.word(u, l)?),
            Instruction::Workdir(w) => Instruction::Workdir(self.word(w, l)?),
            Instruction::StopSignal(s) => Instruction::StopSignal(self.word(s, l)?),
            Instruction::Copy(c) => Instruction::Copy(self.copy(c, l)?),
            Instruction::Add(c) => Instruction::Add(self.copy(c, l)?),
            other => other.clone(),
        })
    }

    fn pairs(&self, kvs: &[(String, String)], l: usize) -> Result<Vec<(String, String)>, Error> {
        kvs.iter()
            .map(|(k, v)| Ok((self.word(k, l)?, self.word(v, l)?)))
            .collect()
    }

    fn copy(&self, c: &Copy, l: usize) -> Result<Copy, Error> {
        let heredocs = c
            .heredocs
            .iter()
            .map(|h| {
                let content = if h.expand {
                    self.word(&format!("\"{}\"", h.content.replace('"', "\\\"")), l)?
                } else {
                    h.content.clone()
                };
                Ok(Heredoc {
                    content,
                    ..h.clone()
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Copy {
            sources: c
                .sources
                .iter()
                .map(|s| self.word(s, l))
                .collect::<Result<_, _>>()?,
            dest: self.word(&c.dest, l)?,
            heredocs,
            from: self.opt(&c.from, l)?,
            chown: self.opt(&c.chown, l)?,
            chmod: self.opt(&c.chmod, l)?,
            exclude: c
                .exclude
                .iter()
                .map(|s| self.word(s, l))
                .collect::<Result<_, _>>()?,
            checksum: self.opt(&c.checksum, l)?,
            ..c.clone()
        })
    }

    /// After `expand`: ARG declares, ENV sets.
    pub fn apply(&mut self, instr: &Instruction) {
        match instr {
            Instruction::Arg(args) => {
                for a in args {
                    let value = match (self.global.build_args.get(&a.name), &a.default) {
                        (Some(v), _) => Some(v.clone()),
                        (None, Some(d)) => Some(d.clone()),
                        (None, None) => self.global.lookup(&a.name),
                    };
                    self.args.set(&a.name, value);
                }
            }
            Instruction::Env(kvs) => {
                for (k, v) in kvs {
                    self.env.set(k, v.clone());
                }
            }
            _ => {}
        }
    }

    /// ENV values in order (what the image config gets).
    pub fn env(&self) -> Vec<(String, String)> {
        self.env.items.clone()
    }

    /// What a RUN sees: ENV plus declared ARGs with values (latest declaration), ENV winning.
    pub fn run_env(&self) -> Vec<(String, String)> {
        let mut out = self.env.items.clone();
        for (k, v) in &self.args.items {
            if let Some(v) = v {
                if self.env.get(k).is_none() {
                    out.push((k.clone(), v.clone()));
                }
            }
        }
        out
    }
}
