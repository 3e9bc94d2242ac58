//! Hostile sizes that a quadratic parser or planner could not finish: each input is large
//! enough that O(n²) work would take many minutes, so a regression shows as a test that
//! does not finish (times are measured by `examples/parse_bench.rs`, never asserted here).

use dockerfile::{BuildArgs, PlatformArgs, StageScope};

fn parse_and_plan(text: &str) -> Result<Vec<String>, dockerfile::Error> {
    let df = dockerfile::parse(text)?;
    dockerfile::plan(&df, &BuildArgs::default(), &PlatformArgs::default(), None)
}

/// Runs one hostile case (the name documents it).
fn hostile<T>(_what: &str, f: impl FnOnce() -> T) -> T {
    f()
}

#[test]
fn a_four_megabyte_line() {
    let text = format!("FROM busybox\nRUN echo {}\n", "x".repeat(4 << 20));
    let plan = hostile("long line", || parse_and_plan(&text)).unwrap();
    assert_eq!(plan[1].len(), "  RUN shell \"echo \"".len() + (4 << 20));
}

#[test]
fn two_hundred_thousand_continuations() {
    let text = format!(
        "FROM busybox\nRUN echo \\\n{}end\n",
        "a \\\n".repeat(200_000)
    );
    let df = hostile("continuations", || dockerfile::parse(&text)).unwrap();
    let cmd = &df.stages[0].commands[0];
    assert_eq!(cmd.line, 2);
    assert!(cmd.original.ends_with("a a end"));
}

#[test]
fn twenty_thousand_heredocs_in_one_run() {
    let n = 20_000;
    let markers: Vec<String> = (0..n).map(|i| format!("<<H{i}")).collect();
    let bodies: String = (0..n).map(|i| format!("body {i}\nH{i}\n")).collect();
    let text = format!(
        "FROM busybox\nRUN {}\n{bodies}CMD [\"x\"]\n",
        markers.join(" ")
    );
    let df = hostile("heredocs", || dockerfile::parse(&text)).unwrap();
    let dockerfile::Instruction::Run(run) = &df.stages[0].commands[0].instruction else {
        panic!("not a RUN");
    };
    assert_eq!(run.heredocs.len(), n);
    assert_eq!(run.heredocs[n - 1].content, format!("body {}\n", n - 1));
    assert_eq!(df.stages[0].commands.len(), 2);
}

#[test]
fn ten_thousand_chained_stages() {
    let mut text = String::from("FROM busybox AS s0\n");
    for i in 1..10_000 {
        text.push_str(&format!("FROM s{} AS s{i}\nCOPY --from=s0 /a /a\n", i - 1));
    }
    let plan = hostile("stages", || parse_and_plan(&text)).unwrap();
    assert_eq!(plan.len(), 10_000 + 9_999);
    assert_eq!(plan[0], "stage 0: FROM busybox AS s0");
}

#[test]
fn twenty_thousand_env_keys_in_one_stage() {
    let mut text = String::from("FROM busybox\n");
    for i in 0..20_000usize {
        text.push_str(&format!("ENV K{i}=${{K{}:+y}}x\n", i.saturating_sub(1)));
    }
    let plan = hostile("env keys", || parse_and_plan(&text)).unwrap();
    assert_eq!(plan.len(), 20_001);
    assert_eq!(plan[20_000], "  ENV K19999=\"yx\"");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let text = format!(
        "FROM busybox\nENV A={}x{}\n",
        "${U:-".repeat(100_000),
        "}".repeat(100_000)
    );
    let err = hostile("nesting", || parse_and_plan(&text)).unwrap_err();
    assert!(err.message.contains("nested"), "{err}");
}

#[test]
fn redeclared_arg_reaches_run_with_its_latest_value() {
    let df = dockerfile::parse("FROM busybox\nARG X=1\nENV E=e\nARG X=2\n").unwrap();
    let global = dockerfile::GlobalScope::new(
        &df.meta_args,
        &BuildArgs::default(),
        &PlatformArgs::default(),
    )
    .unwrap();
    let mut scope = StageScope::new(&global, &[("E".into(), "base".into())]);
    for c in &df.stages[0].commands {
        let i = scope.expand(c).unwrap();
        scope.apply(&i);
    }
    assert_eq!(scope.lookup("X").as_deref(), Some("2"));
    assert_eq!(
        scope.run_env(),
        vec![("E".into(), "e".into()), ("X".into(), "2".into())]
    );
}
