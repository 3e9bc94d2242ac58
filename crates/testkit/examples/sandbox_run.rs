//! Runs an executor binary (ours, or kaniko's as an oracle) once in the pod-like sandbox:
//! `sandbox_run EXECUTOR CONTEXT_DIR [ARGS...]`. Prints what it printed and exits with its
//! status; `KEEP_ROOT=1` leaves the sandbox root in place and prints where it is.

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(exe), Some(ctx)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: sandbox_run EXECUTOR CONTEXT_DIR [ARGS...]");
    };
    let rest: Vec<String> = args.collect();
    let mut sb = testkit::sandbox::Sandbox::new(std::path::Path::new(&exe))?;
    sb.context(std::path::Path::new(&ctx));
    let refs: Vec<&str> = rest.iter().map(String::as_str).collect();
    let out = sb.run(&refs)?;
    print!("{}", out.stdout);
    eprint!("{}", out.stderr);
    if std::env::var_os("KEEP_ROOT").is_some() {
        let root = sb.root().to_path_buf();
        std::mem::forget(sb);
        eprintln!("sandbox root kept at {}", root.display());
    } else {
        // `exit` runs no destructors: remove the root first.
        drop(sb);
    }
    std::process::exit(out.status);
}
