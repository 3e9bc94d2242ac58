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
    let mut scopes: std::collections::HashMap<usize, StageScope> = Default::default();
    for i in needed {
        let stage = &df.stages[i];
        let base = df.base(i, &global)?;
        let name = stage
            .name
            .as_deref()
            .map(|n| format!(" AS {n}"))
            .unwrap_or_default();
        let platform = global
            .expand_platform(stage)?
            .map(|p| format!("--platform={p} "))
            .unwrap_or_default();
        out.push(format!("stage {i}: FROM {platform}{}{name}", base.name));
        // A stage FROM a stage starts with its variables (the image's Env is unknown here).
        let mut scope = match base.stage.and_then(|b| scopes.get(&b)) {
            Some(parent) => parent.clone(),
            None => StageScope::new(&global, &[]),
        };
        for c in &stage.commands {
            let instr = scope.expand(c)?;
            scope.apply(&instr);
            out.push(format!("  {}", render(c, &instr)));
        }
        scopes.insert(i, scope);
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
        Instruction::Volume(v) => format!("VOLUME {}", json(v)),
        Instruction::User(u) => format!("USER {u}"),
        Instruction::Workdir(w) => format!("WORKDIR {w}"),
        Instruction::StopSignal(s) => format!("STOPSIGNAL {s}"),
        Instruction::Maintainer(m) => format!("MAINTAINER {m}"),
        Instruction::Shell(s) => format!("SHELL {}", json(s)),
        Instruction::Cmd(x) => format!("CMD {}", command_line(x)),
        Instruction::Entrypoint(x) => format!("ENTRYPOINT {}", command_line(x)),
        Instruction::Run(r) => render_run(r),
        Instruction::Copy(cp) | Instruction::Add(cp) => render_copy(&kw, cp),
        Instruction::Healthcheck(h) => render_healthcheck(h),
        Instruction::Onbuild(inner) => format!("ONBUILD {}", render(inner, &inner.instruction)),
    }
}

fn render_run(r: &Run) -> String {
    let mut flags = String::new();
    for m in &r.mounts {
        flags.push_str(&format!("--mount={} ", mount(m)));
    }
    for (n, v) in [("network", &r.network), ("security", &r.security)] {
        if let Some(v) = v {
            flags.push_str(&format!("--{n}={v} "));
        }
    }
    format!(
        "RUN {flags}{}{}",
        command_line(&r.command),
        heredocs(&r.heredocs)
    )
}

fn render_copy(kw: &str, cp: &Copy) -> String {
    let mut flags = String::new();
    for (n, v) in [
        ("from", &cp.from),
        ("chown", &cp.chown),
        ("chmod", &cp.chmod),
        ("checksum", &cp.checksum),
    ] {
        if let Some(v) = v {
            flags.push_str(&format!("--{n}={v} "));
        }
    }
    for (n, on) in [
        ("link", cp.link),
        ("parents", cp.parents),
        ("keep-git-dir", cp.keep_git_dir),
    ] {
        if on {
            flags.push_str(&format!("--{n} "));
        }
    }
    if let Some(u) = cp.unpack {
        flags.push_str(&format!("--unpack={u} "));
    }
    for e in &cp.exclude {
        flags.push_str(&format!("--exclude={e} "));
    }
    format!(
        "{kw} {flags}{} -> {}{}",
        json(&cp.sources),
        cp.dest,
        heredocs(&cp.heredocs)
    )
}

fn render_healthcheck(h: &Healthcheck) -> String {
    let Healthcheck::Cmd {
        test,
        interval,
        timeout,
        start_period,
        start_interval,
        retries,
    } = h
    else {
        return "HEALTHCHECK NONE".into();
    };
    let mut flags = String::new();
    for (n, v) in [
        ("interval", interval),
        ("timeout", timeout),
        ("start-period", start_period),
        ("start-interval", start_interval),
    ] {
        if let Some(d) = v {
            flags.push_str(&format!("--{n}={}ms ", d.as_millis()));
        }
    }
    if let Some(r) = retries {
        flags.push_str(&format!("--retries={r} "));
    }
    format!("HEALTHCHECK {flags}CMD {}", command_line(test))
}

fn json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn command_line(cl: &CommandLine) -> String {
    match cl {
        CommandLine::Exec(v) => format!("exec {}", json(v)),
        CommandLine::Shell(s) => format!("shell {s:?}"),
    }
}

fn mount(m: &Mount) -> String {
    let mut parts = vec![format!(
        "type={}",
        format!("{:?}", m.kind).to_ascii_lowercase()
    )];
    for (k, v) in [
        ("target", &m.target),
        ("source", &m.source),
        ("from", &m.from),
    ] {
        if let Some(v) = v {
            parts.push(format!("{k}={v}"));
        }
    }
    parts.extend(m.options.iter().map(|(k, v)| format!("{k}={v}")));
    parts.join(",")
}

fn heredocs(h: &[Heredoc]) -> String {
    h.iter()
        .map(|h| {
            format!(
                " <<{}{}{}{:?}",
                if h.strip_tabs { "-" } else { "" },
                h.name,
                if h.expand { "=" } else { "='" },
                h.content
            )
        })
        .collect()
}
