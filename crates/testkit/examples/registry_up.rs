//! Starts a plain-HTTP registry on a free loopback port holding `library/busybox:latest`,
//! prints its address and serves until killed (for trying builds by hand, and for running
//! kaniko beside ours on the same input).

fn main() -> anyhow::Result<()> {
    let reg = testkit::registry::Registry::start(testkit::registry::Auth::None, false)?;
    testkit::images::push_busybox(&reg.addr, "library/busybox:latest")?;
    println!("{}", reg.addr);
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}
