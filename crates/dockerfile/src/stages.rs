//! The stages as a graph, looked up one way for every caller: the stage a `FROM` names (by
//! name, case-insensitive, among the earlier stages), the stage a `--from` names (by name
//! or index, among the earlier stages), the `--target` stage, what each stage reads from
//! other stages or images, and the stages a target needs.

use crate::model::{Dockerfile, Instruction, Stage};
use crate::scope::GlobalScope;
use crate::Error;
use std::collections::BTreeSet;

/// What a stage starts from: its base as expanded, and the earlier stage it names, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageBase {
    pub name: String,
    pub stage: Option<usize>,
}

/// What one instruction of a stage reads from another stage or an image: `COPY --from`
/// and `RUN --mount from=` (a `$` in `from` is decided when the instruction runs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageRead<'a> {
    /// The stage or image as written.
    pub from: &'a str,
    /// The paths read from it, as written (`/` for a whole mount).
    pub paths: Vec<String>,
}

impl Stage {
    /// Everything the stage's instructions read from other stages or images, in order.
    pub fn reads(&self) -> Vec<StageRead<'_>> {
        let mut out = Vec::new();
        for c in &self.commands {
            match &c.instruction {
                Instruction::Copy(cp) | Instruction::Add(cp) => {
                    out.extend(cp.from.as_deref().map(|from| StageRead {
                        from,
                        paths: cp.sources.clone(),
                    }))
                }
                Instruction::Run(r) => out.extend(r.mounts.iter().filter_map(|m| {
                    Some(StageRead {
                        from: m.from.as_deref()?,
                        paths: vec![m.source.clone().unwrap_or_else(|| "/".into())],
                    })
                })),
                _ => {}
            }
        }
        out
    }

    fn is_named(&self, name: &str) -> bool {
        self.name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    }
}

impl Dockerfile {
    /// The stage named `name` among the first `before` stages (names are unique).
    fn named(&self, name: &str, before: usize) -> Option<usize> {
        let before = before.min(self.stages.len());
        self.stages[..before].iter().position(|s| s.is_named(name))
    }

    /// The earlier stage (before stage `i`) that `--from=<word>` names: by name, else by
    /// index.
    pub fn stage_ref(&self, i: usize, word: &str) -> Option<usize> {
        self.named(word, i)
            .or_else(|| word.parse::<usize>().ok().filter(|j| *j < i))
    }

    /// What stage `i` starts from: its base expanded with the global scope, and the
    /// earlier stage of that name (a `FROM` names stages by name only).
    pub fn base(&self, i: usize, global: &GlobalScope) -> Result<StageBase, Error> {
        let name = global.expand_base(&self.stages[i])?;
        let stage = self.named(&name, i);
        Ok(StageBase { name, stage })
    }

    /// The `--target` stage, or the last one.
    pub fn target(&self, target: Option<&str>) -> Result<usize, Error> {
        match target {
            None => Ok(self.stages.len().saturating_sub(1)),
            Some(t) => self.named(t, self.stages.len()).ok_or_else(|| {
                Error::new(0, format!("failed to reach build target {t} in Dockerfile"))
            }),
        }
    }

    /// The stages `target` needs: through `FROM <stage>`, `COPY --from` and `RUN --mount
    /// from=`.
    pub fn required_stages(
        &self,
        target: usize,
        global: &GlobalScope,
    ) -> Result<BTreeSet<usize>, Error> {
        let mut need = BTreeSet::new();
        let mut todo = vec![target];
        while let Some(i) = todo.pop() {
            if !need.insert(i) {
                continue;
            }
            todo.extend(self.base(i, global)?.stage);
            for r in self.stages[i].reads() {
                todo.extend(self.stage_ref(i, r.from));
            }
        }
        Ok(need)
    }
}

#[cfg(test)]
mod tests {
    use crate::{parse, BuildArgs, GlobalScope, PlatformArgs};

    #[test]
    fn stages_by_name_index_and_base() {
        let df = parse(
            "ARG B=one\nFROM busybox AS One\nFROM $B AS two\nCOPY --from=0 /a /a\n\
             RUN --mount=from=ONE,source=/s true\nFROM 1\nFROM two\nCOPY --from=img /x /x\n",
        )
        .unwrap();
        let global = GlobalScope::new(
            &df.meta_args,
            &BuildArgs::default(),
            &PlatformArgs::default(),
        )
        .unwrap();
        assert_eq!(df.stage_ref(1, "one"), Some(0));
        assert_eq!(df.stage_ref(1, "0"), Some(0));
        assert_eq!(df.stage_ref(1, "1"), None, "only earlier stages");
        assert_eq!(df.stage_ref(2, "two"), Some(1));
        let base = df.base(1, &global).unwrap();
        assert_eq!((base.name.as_str(), base.stage), ("one", Some(0)));
        assert_eq!(
            df.base(2, &global).unwrap().stage,
            None,
            "FROM names by name only"
        );
        assert_eq!(df.base(3, &global).unwrap().stage, Some(1));
        let reads: Vec<_> = df.stages[1]
            .reads()
            .iter()
            .map(|r| (r.from, r.paths.clone()))
            .collect();
        assert_eq!(
            reads,
            [
                ("0", vec!["/a".to_string()]),
                ("ONE", vec!["/s".to_string()])
            ]
        );
        assert_eq!(df.target(Some("TWO")).unwrap(), 1);
        assert_eq!(df.target(None).unwrap(), 3);
        assert!(df.target(Some("1")).is_err());
        assert_eq!(
            df.required_stages(3, &global)
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>(),
            [0, 1, 3]
        );
        assert_eq!(
            df.required_stages(2, &global)
                .unwrap()
                .into_iter()
                .collect::<Vec<_>>(),
            [2]
        );
    }
}
