//! Instructions that only change the image config: ENV, LABEL, MAINTAINER, EXPOSE, VOLUME,
//! USER, CMD, ENTRYPOINT, SHELL, STOPSIGNAL, HEALTHCHECK, ONBUILD.

use dockerfile::{CommandLine, Healthcheck, Instruction};
use image::ImageConfig;
use serde_json::json;

/// Per-stage state beside the config.
pub struct MetaState {
    pub shell: Vec<String>,
    /// Whether CMD was set in this stage (an ENTRYPOINT resets an inherited CMD).
    pub cmd_set: bool,
}

impl MetaState {
    pub fn new(config: &ImageConfig) -> MetaState {
        let shell = config
            .config
            .shell
            .clone()
            .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()]);
        MetaState {
            shell,
            cmd_set: false,
        }
    }

    /// The argv of a command line: exec form as is, shell form through SHELL.
    pub fn argv(&self, cl: &CommandLine) -> Vec<String> {
        match cl {
            CommandLine::Exec(v) => v.clone(),
            CommandLine::Shell(s) => {
                let mut v = self.shell.clone();
                v.push(s.clone());
                v
            }
        }
    }
}

/// Applies a metadata instruction to `config`; false when the instruction is not one.
pub fn apply(
    config: &mut ImageConfig,
    state: &mut MetaState,
    instr: &Instruction,
    env: &[(String, String)],
) -> bool {
    let c = &mut config.config;
    match instr {
        Instruction::Env(_) => {
            c.env = Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect());
        }
        Instruction::Label(kvs) => {
            let labels = c.labels.get_or_insert_with(Default::default);
            for (k, v) in kvs {
                labels.insert(k.clone(), v.clone());
            }
        }
        Instruction::Maintainer(m) => config.author = Some(m.clone()),
        Instruction::Expose(ports) => {
            let map = c.exposed_ports.get_or_insert_with(Default::default);
            for p in ports {
                // Checked when the instruction was expanded.
                for port in dockerfile::port_keys(p).unwrap_or_default() {
                    map.insert(port, json!({}));
                }
            }
        }
        Instruction::Volume(vols) => {
            let map = c.volumes.get_or_insert_with(Default::default);
            for v in vols {
                map.insert(v.clone(), json!({}));
            }
        }
        Instruction::User(u) => c.user = Some(u.clone()),
        Instruction::Cmd(cl) => {
            c.cmd = Some(state.argv(cl));
            // BuildKit's dispatchCmd marks every CMD so, on every platform.
            c.args_escaped = Some(true);
            state.cmd_set = true;
        }
        Instruction::Entrypoint(cl) => {
            c.entrypoint = Some(state.argv(cl));
            if !state.cmd_set {
                c.cmd = None;
            }
        }
        Instruction::Shell(sh) => {
            state.shell = sh.clone();
            c.shell = Some(sh.clone());
        }
        Instruction::StopSignal(s) => c.stop_signal = Some(s.clone()),
        Instruction::Healthcheck(h) => c.healthcheck = Some(healthcheck(state, h)),
        Instruction::Onbuild(cmd) => c
            .on_build
            .get_or_insert_with(Vec::new)
            .push(cmd.original.clone()),
        Instruction::Arg(_) => {}
        _ => return false,
    }
    true
}

fn healthcheck(state: &MetaState, h: &Healthcheck) -> image::Healthcheck {
    match h {
        Healthcheck::None => image::Healthcheck {
            test: Some(vec!["NONE".into()]),
            ..Default::default()
        },
        Healthcheck::Cmd {
            test,
            interval,
            timeout,
            start_period,
            start_interval,
            retries,
        } => {
            let test = match test {
                CommandLine::Exec(v) => std::iter::once("CMD".to_string())
                    .chain(v.iter().cloned())
                    .collect(),
                CommandLine::Shell(s) => vec!["CMD-SHELL".to_string(), s.clone()],
            };
            let _ = state;
            let ns = |d: &Option<std::time::Duration>| d.map(|d| d.as_nanos() as u64);
            image::Healthcheck {
                test: Some(test),
                interval: ns(interval),
                timeout: ns(timeout),
                start_period: ns(start_period),
                start_interval: ns(start_interval),
                retries: retries.map(u64::from),
            }
        }
    }
}

/// `80` → `80/tcp`; `8000-8002/udp` → each port of the range.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entrypoint_resets_inherited_cmd() {
        let mut config = ImageConfig::default();
        config.config.cmd = Some(vec!["sh".into()]);
        let mut st = MetaState::new(&config);
        apply(
            &mut config,
            &mut st,
            &Instruction::Entrypoint(CommandLine::Shell("run".into())),
            &[],
        );
        assert_eq!(
            config.config.entrypoint,
            Some(vec!["/bin/sh".into(), "-c".into(), "run".into()])
        );
        assert_eq!(config.config.cmd, None);
        apply(
            &mut config,
            &mut st,
            &Instruction::Cmd(CommandLine::Exec(vec!["a".into()])),
            &[],
        );
        apply(
            &mut config,
            &mut st,
            &Instruction::Entrypoint(CommandLine::Exec(vec!["e".into()])),
            &[],
        );
        assert_eq!(config.config.cmd, Some(vec!["a".into()]));
    }
}
