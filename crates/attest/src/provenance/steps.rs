//! `mode=max`'s per-instruction record as BuildKit writes it: `buildConfig.llbDefinition`,
//! one step per operation in LLB's JSON shape (`{"id": "step3", "op": {"Op": {"exec": …}},
//! "inputs": ["step2:0"]}`), and the source map from steps to Dockerfile lines
//! (`metadata.source`). The executor runs instructions, not LLB, so each instruction is one
//! step: a RUN an `exec` op, a COPY/ADD/WORKDIR a `file` op, a base image or download a
//! `source` op.

use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct Step {
    pub op: Op,
    /// Earlier steps this one reads, as indexes into the record's steps (the stage's
    /// previous state first, as BuildKit's root mount).
    pub inputs: Vec<usize>,
    /// The instruction's Dockerfile lines, 1-based and inclusive.
    pub lines: Option<(u32, u32)>,
}

#[derive(Clone, Debug)]
pub enum Op {
    /// `docker-image://index.docker.io/library/busybox:latest@sha256:…`, `local://context`,
    /// `https://…` (ADD), `git://…`.
    Source {
        identifier: String,
        attrs: BTreeMap<String, String>,
    },
    /// A RUN.
    Exec {
        args: Vec<String>,
        /// `NAME=value`, secret values left out by the caller.
        env: Vec<String>,
        cwd: String,
        user: String,
        network: Network,
        mounts: Vec<Mount>,
    },
    /// COPY, ADD (of context files), WORKDIR.
    File { actions: Vec<FileAction> },
}

/// LLB's `NetMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    Sandbox,
    Host,
    None,
}

/// A `RUN --mount` (the root mount is implied by the first input).
#[derive(Clone, Debug)]
pub struct Mount {
    pub dest: String,
    pub kind: MountKind,
    /// Position in the step's `inputs` (binds and caches seeded from a stage or image).
    pub input: Option<usize>,
    pub selector: String,
    pub readonly: bool,
}

/// LLB's `MountType`, with the ids BuildKit records.
#[derive(Clone, Debug)]
pub enum MountKind {
    Bind,
    Secret { id: String, optional: bool },
    Ssh { id: String, optional: bool },
    Cache { id: String },
    Tmpfs,
}

/// A user or group as `--chown` names it.
#[derive(Clone, Debug)]
pub enum UserRef {
    Id(u32),
    Name(String),
}

#[derive(Clone, Debug)]
pub enum FileAction {
    /// Copies `src` from the step's input `from` (a position in `inputs`) to `dest`.
    Copy {
        from: usize,
        src: String,
        dest: String,
        owner: Option<(UserRef, Option<UserRef>)>,
        mode: Option<u32>,
        follow_symlink: bool,
        dir_copy_contents: bool,
        allow_wildcard: bool,
        create_dest_path: bool,
    },
    Mkdir {
        path: String,
        mode: u32,
        make_parents: bool,
    },
    /// A heredoc file.
    Mkfile {
        path: String,
        mode: u32,
        data: Vec<u8>,
    },
}

/// `buildConfig`: `{"llbDefinition": [...]}`.
pub(crate) fn build_config(steps: &[Step], platform: &str) -> Value {
    let defs: Vec<Value> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut v = Map::new();
            v.insert("id".into(), json!(format!("step{i}")));
            v.insert("op".into(), op_json(s, platform));
            if !s.inputs.is_empty() {
                let inputs: Vec<String> = s.inputs.iter().map(|n| format!("step{n}:0")).collect();
                v.insert("inputs".into(), json!(inputs));
            }
            Value::Object(v)
        })
        .collect();
    json!({ "llbDefinition": defs })
}

/// `metadata.source`: the Dockerfile and where each step comes from in it.
pub(crate) fn source(steps: &[Step], filename: &str, text: &str) -> Value {
    let mut locations = Map::new();
    for (i, s) in steps.iter().enumerate() {
        if let Some((start, end)) = s.lines {
            locations.insert(
                format!("step{i}"),
                json!({"locations": [{"ranges": [{"start": {"line": start}, "end": {"line": end}}]}]}),
            );
        }
    }
    let data = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    json!({
        "locations": locations,
        "infos": [{"filename": filename, "language": "Dockerfile", "data": data}],
    })
}

fn op_json(s: &Step, platform: &str) -> Value {
    let op = match &s.op {
        Op::Source { identifier, attrs } => {
            let mut src = Map::new();
            src.insert("identifier".into(), json!(identifier));
            if !attrs.is_empty() {
                src.insert("attrs".into(), json!(attrs));
            }
            json!({ "source": src })
        }
        Op::Exec {
            args,
            env,
            cwd,
            user,
            network,
            mounts,
        } => {
            let mut meta = Map::new();
            meta.insert("args".into(), json!(args));
            if !env.is_empty() {
                meta.insert("env".into(), json!(env));
            }
            meta.insert("cwd".into(), json!(cwd));
            if !user.is_empty() {
                meta.insert("user".into(), json!(user));
            }
            let mut all = vec![json!({"dest": "/"})];
            all.extend(mounts.iter().map(mount_json));
            let mut exec = Map::new();
            exec.insert("meta".into(), Value::Object(meta));
            exec.insert("mounts".into(), json!(all));
            match network {
                Network::Sandbox => {}
                Network::Host => {
                    exec.insert("network".into(), json!(1));
                }
                Network::None => {
                    exec.insert("network".into(), json!(2));
                }
            }
            json!({ "exec": exec })
        }
        Op::File { actions } => {
            let actions: Vec<Value> = actions.iter().map(action_json).collect();
            json!({ "file": { "actions": actions } })
        }
    };
    let mut v = Map::new();
    v.insert("Op".into(), op);
    if let Some(p) = platform_json(platform) {
        v.insert("platform".into(), p);
    }
    Value::Object(v)
}

fn mount_json(m: &Mount) -> Value {
    let mut v = Map::new();
    v.insert(
        "input".into(),
        json!(m.input.map(|i| i as i64).unwrap_or(-1)),
    );
    if !m.selector.is_empty() {
        v.insert("selector".into(), json!(m.selector));
    }
    v.insert("dest".into(), json!(m.dest));
    v.insert("output".into(), json!(-1));
    if m.readonly {
        v.insert("readonly".into(), json!(true));
    }
    let (ty, extra) = match &m.kind {
        MountKind::Bind => (0, None),
        MountKind::Secret { id, optional } => (
            1,
            Some(("secretOpt", json!({"ID": id, "optional": optional}))),
        ),
        MountKind::Ssh { id, optional } => {
            (2, Some(("SSHOpt", json!({"ID": id, "optional": optional}))))
        }
        MountKind::Cache { id } => (3, Some(("cacheOpt", json!({"ID": id})))),
        MountKind::Tmpfs => (4, None),
    };
    if ty != 0 {
        v.insert("mountType".into(), json!(ty));
    }
    if let Some((k, e)) = extra {
        v.insert(k.into(), e);
    }
    Value::Object(v)
}

fn action_json(a: &FileAction) -> Value {
    let (secondary, action) = match a {
        FileAction::Copy {
            from,
            src,
            dest,
            owner,
            mode,
            follow_symlink,
            dir_copy_contents,
            allow_wildcard,
            create_dest_path,
        } => {
            let mut c = Map::new();
            c.insert("src".into(), json!(src));
            c.insert("dest".into(), json!(dest));
            if let Some((u, g)) = owner {
                let mut o = Map::new();
                o.insert("user".into(), user_json(u));
                if let Some(g) = g {
                    o.insert("group".into(), user_json(g));
                }
                c.insert("owner".into(), Value::Object(o));
            }
            c.insert("mode".into(), json!(mode.map(|m| m as i64).unwrap_or(-1)));
            for (k, b) in [
                ("followSymlink", follow_symlink),
                ("dirCopyContents", dir_copy_contents),
                ("allowWildcard", allow_wildcard),
                ("createDestPath", create_dest_path),
            ] {
                if *b {
                    c.insert(k.into(), json!(true));
                }
            }
            (*from as i64, json!({ "copy": c }))
        }
        FileAction::Mkdir {
            path,
            mode,
            make_parents,
        } => (
            -1,
            json!({"mkdir": {"path": path, "mode": mode, "makeParents": make_parents}}),
        ),
        FileAction::Mkfile { path, mode, data } => (
            -1,
            json!({"mkfile": {
                "path": path,
                "mode": mode,
                "data": base64::engine::general_purpose::STANDARD.encode(data),
            }}),
        ),
    };
    json!({"input": 0, "secondaryInput": secondary, "output": 0, "Action": action})
}

fn user_json(u: &UserRef) -> Value {
    match u {
        UserRef::Id(id) => json!({"User": {"byId": id}}),
        UserRef::Name(n) => json!({"User": {"byName": {"name": n}}}),
    }
}

/// `os/arch[/variant]` as LLB's `Platform`.
fn platform_json(p: &str) -> Option<Value> {
    let mut parts = p.split('/');
    let os = parts.next().filter(|s| !s.is_empty())?;
    let arch = parts.next().filter(|s| !s.is_empty())?;
    let mut v = Map::new();
    v.insert("Architecture".into(), json!(arch));
    v.insert("OS".into(), json!(os));
    if let Some(var) = parts.next().filter(|s| !s.is_empty()) {
        v.insert("Variant".into(), json!(var));
    }
    Some(Value::Object(v))
}
