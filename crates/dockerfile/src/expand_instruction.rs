//! Each instruction's words expanded where Docker expands them, with the stage's variables:
//! ENV and LABEL keys and values, ARG defaults (not names), EXPOSE (split into words),
//! VOLUME, USER, WORKDIR, STOPSIGNAL, COPY/ADD sources, destination, `--chown`, `--chmod`,
//! `--checksum` and unquoted heredocs, and every `RUN --mount` value. RUN, CMD, ENTRYPOINT,
//! SHELL, HEALTHCHECK, ONBUILD, `--from`, `--exclude`, `--network` are left as written.

use crate::expand::{expand_heredoc, expand_word, expand_words};
use crate::model::*;
use crate::scope::StageScope;
use crate::{mounts, Error};

impl StageScope {
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

    fn list(&self, ws: &[String], line: usize) -> Result<Vec<String>, Error> {
        ws.iter().map(|w| self.word(w, line)).collect()
    }

    /// The instruction with its words expanded where Docker expands them. An ARG comes
    /// back with each name's value for this build: its build arg, else its default
    /// expanded (seeing the names before it in the same ARG), else its global value.
    pub fn expand(&self, cmd: &Command) -> Result<Instruction, Error> {
        let l = cmd.line;
        Ok(match &cmd.instruction {
            Instruction::Env(kvs) => Instruction::Env(self.pairs(kvs, l)?),
            Instruction::Label(kvs) => Instruction::Label(self.pairs(kvs, l)?),
            Instruction::Arg(args) => Instruction::Arg(self.args(args, l)?),
            Instruction::Expose(ports) => {
                let mut out = Vec::new();
                for p in ports {
                    out.extend(self.words(p, l)?);
                }
                for p in &out {
                    crate::port_keys(p).map_err(|e| Error::new(l, e))?;
                }
                Instruction::Expose(out)
            }
            Instruction::Volume(v) => Instruction::Volume(self.list(v, l)?),
            Instruction::User(u) => Instruction::User(self.word(u, l)?),
            Instruction::Workdir(w) => Instruction::Workdir(self.word(w, l)?),
            Instruction::StopSignal(s) => Instruction::StopSignal(self.word(s, l)?),
            Instruction::Copy(c) => Instruction::Copy(self.copy(c, l)?),
            Instruction::Add(c) => Instruction::Add(self.copy(c, l)?),
            Instruction::Run(r) => Instruction::Run(self.run(r, l)?),
            other => other.clone(),
        })
    }

    fn pairs(&self, kvs: &[(String, String)], l: usize) -> Result<Vec<(String, String)>, Error> {
        kvs.iter()
            .map(|(k, v)| Ok((self.word(k, l)?, self.word(v, l)?)))
            .collect()
    }

    /// ARG names stay as written; a default is expanded only when no build arg replaces
    /// it, so an error in an overridden default does not fail the build.
    fn args(&self, args: &[ArgDecl], l: usize) -> Result<Vec<ArgDecl>, Error> {
        let mut set: Vec<(&str, String)> = Vec::new();
        let mut out = Vec::with_capacity(args.len());
        for a in args {
            let value = match (self.global.build_args.get(&a.name), &a.default) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(d)) => {
                    let lookup = |k: &str| {
                        let earlier = set.iter().rev().find(|(n, _)| *n == k);
                        earlier.map(|(_, v)| v.clone()).or_else(|| self.lookup(k))
                    };
                    let v = expand_word(d, self.escape, &lookup)
                        .map_err(|e| Error::new(l, e.to_string()))?;
                    Some(v)
                }
                (None, None) => self.global.lookup(&a.name),
            };
            if let Some(v) = &value {
                set.push((&a.name, v.clone()));
            }
            out.push(ArgDecl {
                name: a.name.clone(),
                default: value,
            });
        }
        Ok(out)
    }

    fn copy(&self, c: &Copy, l: usize) -> Result<Copy, Error> {
        let lookup = |k: &str| self.lookup(k);
        let heredocs = c
            .heredocs
            .iter()
            .map(|h| {
                let content = match h.expand {
                    true => expand_heredoc(&h.content, &lookup)
                        .map_err(|e| Error::new(l, e.to_string()))?,
                    false => h.content.clone(),
                };
                Ok(Heredoc {
                    content,
                    ..h.clone()
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Copy {
            sources: self.list(&c.sources, l)?,
            dest: self.word(&c.dest, l)?,
            heredocs,
            chown: self.opt(&c.chown, l)?,
            chmod: self.opt(&c.chmod, l)?,
            checksum: self.opt(&c.checksum, l)?,
            ..c.clone()
        })
    }

    fn run(&self, r: &Run, l: usize) -> Result<Run, Error> {
        let mounts = r
            .mounts
            .iter()
            .map(|m| {
                let mut options = m.options.clone();
                for v in options.values_mut() {
                    *v = self.word(v, l)?;
                }
                let mut m = Mount {
                    kind: m.kind.clone(),
                    target: self.opt(&m.target, l)?,
                    source: self.opt(&m.source, l)?,
                    from: self.opt(&m.from, l)?,
                    options,
                };
                mounts::resolve_type(&mut m, l)?;
                mounts::check(&m, l)?;
                Ok(m)
            })
            .collect::<Result<_, Error>>()?;
        Ok(Run {
            mounts,
            ..r.clone()
        })
    }
}
