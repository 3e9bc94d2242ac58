//! The `--dryrun` plan: each stage the target needs with its base, then each instruction
//! after expansion, one per line.

use crate::model::*;
use crate::scope::{BuildArgs, GlobalScope, PlatformArgs, StageScope};
use crate::{Dockerfile, Error};

pub fn plan(
    df: &Dockerfile,
    build_args: &BuildArgs,
    platform: &PlatformArgs,
    target: Option<&str>,
) -> Result<Vec<String>, Error> {
    let global = GlobalScope::with_escape(&df.meta_args, build_args, platform, df.escape)?;
    let t = df.target(target)?;
    let needed = df.required_stages(t, &global)?;
    let mut out = Vec::new();
    for i in needed {
        let stage = &df.stages[i];
        let base = global.expand_base(stage)?;
        let name = stage
            .name
            .as_deref()
            .map(|n| format!(" AS {n}"))
            .unwrap_or_default();
        out.push(format!("stage {i}: FROM {base}{name}"));
        let mut scope = StageScope::new(&global, &[]);
        for c in &stage.commands {
            let instr = scope.expand(c)?;
            scope.apply(&instr);
            out.push(format!("  {}", render(c, &instr)));
        }
    }
    Ok(out)
}

fn render(c: &Command, i: &Instruction) -> String {
    let kw = c
        .original
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    let cl = |cl: &CommandLine| match cl {
        CommandLine::Exec(v) => serde_json::to_string(v).unwrap_or_default(),
        CommandLine::Shell(s) => s.clone(),
    };
    match i {
        Instruction::Env(kvs) | Instruction::Label(kvs) => {
            format!(
                "{kw} {}",
                kvs.iter()
                    .map(|(k, v)| format!("{k}={v:?}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        }
        Instruction::Arg(args) => format!(
            "ARG {}",
            args.iter()
                .map(|a| a
                    .default
                    .as_ref()
                    .map_or(a.name.clone(), |d| format!("{}={d:?}", a.name)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Instruction::Expose(p) => format!("EXPOSE {}", p.join(" ")),
        Instruction::Volume(v) => {
            format!("VOLUME {}", serde_json::to_string(v).unwrap_or_default())
        }
        Instruction::User(u) => format!("USER {u}"),
        Instruction::Workdir(w) => format!("WORKDIR {w}"),
        Instruction::StopSignal(s) => format!("STOPSIGNAL {s}"),
        Instruction::Cmd(x) => format!("CMD {}", cl(x)),
        Instruction::Entrypoint(x) => format!("ENTRYPOINT {}", cl(x)),
        Instruction::Run(r) => format!("RUN {}", cl(&r.command)),
        Instruction::Copy(cp) | Instruction::Add(cp) => {
            let mut flags = String::new();
            for (n, v) in [
                ("from", &cp.from),
                ("chown", &cp.chown),
                ("chmod", &cp.chmod),
            ] {
                if let Some(v) = v {
                    flags.push_str(&format!("--{n}={v} "));
                }
            }
            format!("{kw} {flags}{} {}", cp.sources.join(" "), cp.dest)
        }
        _ => c.original.clone(),
    }
}
