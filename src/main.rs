//! `/kaniko/executor`: builds a container image from a Dockerfile inside a container, with
//! no daemon, and pushes it. The data path: context → Dockerfile → stages → root
//! filesystem → layers → image → destinations: the `dockerfile` crate parses, the `engine`
//! crate builds (over the `rootfs` crate, reading images through the `registry` crate), and
//! `output` sends the image where the flags say. This binary turns flags into options.

mod attestations;
mod caching;
mod cli;
mod container;
mod engine_options;
mod executor;
mod index;
mod kaniko_dir;
mod logging;
mod login;
mod no_nss;
mod observe;
mod output;
mod read_attestations;
mod registry_client;
mod signals;
mod startup;
mod subcommand;
mod summary;
mod telemetry;
mod warmer;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any credential is read: nothing of the same user without CAP_SYS_PTRACE (a
    // RUN) may read this process's environment or memory.
    startup::forbid_inspection();
    let invocation = match cli::parse(std::env::args_os()) {
        Ok(i) => i,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    match invocation {
        cli::Invocation::Version => {
            println!("Kaniko version : v{}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        cli::Invocation::Warmer(opts) => warmer::main(*opts),
        cli::Invocation::Login(opts) => login::main(opts),
        cli::Invocation::Index(opts) => index::main(*opts),
        cli::Invocation::Build(opts) => executor::main(*opts),
        cli::Invocation::Attestations(opts) => read_attestations::main(*opts),
    }
}
