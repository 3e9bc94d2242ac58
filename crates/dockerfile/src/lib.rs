//! The Dockerfile front end: text → a typed model of stages and instructions (`parse`), the
//! variable semantics of a build (`GlobalScope`, `StageScope`, expanded at execution time),
//! the stage graph (`target`, `required_stages`) and the `--dryrun` plan.

mod expand;
mod flags;
mod healthcheck;
mod heredocs;
mod instr;
mod lines;
mod model;
mod mounts;
mod parser;
mod plan;
mod ports;
mod run_copy;
mod scope;

pub use expand::{expand_heredoc, expand_word, expand_words, ExpandError};
pub use model::*;
pub use parser::parse;
pub use plan::plan;
pub use ports::port_keys;
pub use scope::{BuildArgs, GlobalScope, PlatformArgs, StageScope};

use std::collections::BTreeSet;

/// An error with the 1-based line it comes from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("dockerfile parse error on line {line}: {message}")]
pub struct Error {
    pub line: usize,
    pub message: String,
}

impl Error {
    pub fn new(line: usize, message: impl Into<String>) -> Error {
        Error {
            line,
            message: message.into(),
        }
    }
}

impl Dockerfile {
    /// A stage by name (case-insensitive) or index.
    pub fn stage_by_name_or_index(&self, s: &str) -> Option<usize> {
        if let Some(i) = self.stages.iter().position(|st| {
            st.name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(s))
        }) {
            return Some(i);
        }
        s.parse::<usize>().ok().filter(|i| *i < self.stages.len())
    }

    /// The earlier stage that stage `i` is built `FROM` when its expanded base `base` names
    /// one (case-insensitive; the first stage of that name).
    pub fn base_stage(&self, i: usize, base: &str) -> Option<usize> {
        self.stages[..i.min(self.stages.len())]
            .iter()
            .position(|s| {
                s.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(base))
            })
    }

    /// The `--target` stage, or the last one.
    pub fn target(&self, target: Option<&str>) -> Result<usize, Error> {
        match target {
            None => Ok(self.stages.len().saturating_sub(1)),
            Some(t) => self
                .stages
                .iter()
                .position(|st| {
                    st.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(t))
                })
                .ok_or_else(|| {
                    Error::new(0, format!("failed to reach build target {t} in Dockerfile"))
                }),
        }
    }

    /// The stages `target` needs: through `FROM <stage>`, `COPY --from` and `RUN --mount from=`.
    pub fn required_stages(
        &self,
        target: usize,
        global: &GlobalScope,
    ) -> Result<BTreeSet<usize>, Error> {
        // Names (lower case) to indexes, the first stage of a name winning.
        let mut names = std::collections::HashMap::new();
        for (i, st) in self.stages.iter().enumerate() {
            if let Some(n) = &st.name {
                names.entry(n.to_ascii_lowercase()).or_insert(i);
            }
        }
        let find = |s: &str| {
            names
                .get(&s.to_ascii_lowercase())
                .copied()
                .or_else(|| s.parse::<usize>().ok().filter(|i| *i < self.stages.len()))
        };
        let mut need = BTreeSet::new();
        let mut todo = vec![target];
        while let Some(i) = todo.pop() {
            if !need.insert(i) {
                continue;
            }
            let stage = &self.stages[i];
            let base = global.expand_base(stage)?;
            let mut refs = vec![base];
            for c in &stage.commands {
                match &c.instruction {
                    Instruction::Copy(cp) | Instruction::Add(cp) => refs.extend(cp.from.clone()),
                    Instruction::Run(r) => {
                        refs.extend(r.mounts.iter().filter_map(|m| m.from.clone()))
                    }
                    _ => {}
                }
            }
            for r in refs {
                if let Some(j) = find(&r).filter(|j| *j < i) {
                    todo.push(j);
                }
            }
        }
        Ok(need)
    }
}
