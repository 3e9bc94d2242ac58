//! Parse benchmark: generates Dockerfiles of 20,000 and 40,000 lines (every instruction,
//! flags, continuations, heredocs, comments), parses each and prints the best time of
//! several runs, so that linear growth shows as a ratio near 2.
//!
//! `cargo run --release -p dockerfile --example parse_bench [lines...]`

use std::fmt::Write;
use std::time::{Duration, Instant};

/// One stage's worth of instructions; `i` keeps stage names unique.
fn block(out: &mut String, i: usize) {
    let prev = i.saturating_sub(1);
    let _ = write!(
        out,
        r#"# stage {i}
FROM --platform=$BUILDPLATFORM golang:1.22-alpine AS s{i}
ARG VERSION_{i}=1.{i} OTHER
ENV APP_HOME=/app PATH=/usr/local/bin:$PATH \
    MODE="release build"
LABEL org.example.stage="{i}" maintainer="ops@example.com"
MAINTAINER ops <ops@example.com>
WORKDIR ${{APP_HOME}}/src
RUN --mount=type=cache,target=/root/.cache,id=c{i},sharing=locked \
    --mount=type=bind,source=go.mod,target=go.mod \
    apk add --no-cache \
      ca-certificates \
      git && \
    go mod download
RUN <<EOF
set -eux
echo "building {i}"
EOF
RUN cat <<-CONF > /etc/app.conf
	key=value
	stage={i}
	CONF
COPY --from=s{prev} --chown=1000:1000 --chmod=0644 --link go.sum main.go ./
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/a.tar.gz /opt/
COPY <<'EOF' /usr/local/bin/entry.sh
#!/bin/sh
exec "$@"
EOF
EXPOSE 8080/tcp 9090
VOLUME ["/data", "/logs"]
USER app:app
ONBUILD RUN echo triggered
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD wget -q localhost:8080 || exit 1
SHELL ["/bin/sh", "-c"]
ENTRYPOINT ["/usr/local/bin/entry.sh"]
CMD ["serve", "--port", "8080"]

"#
    );
}

/// A Dockerfile of at least `lines` lines, whole stages only.
fn generate(lines: usize) -> String {
    let mut out = String::from("# syntax=docker/dockerfile:1\nARG BASE=alpine\n");
    let mut count = 2;
    let mut i = 0;
    while count < lines {
        let start = out.len();
        block(&mut out, i);
        count += out[start..].matches('\n').count();
        i += 1;
    }
    out
}

fn best_parse(text: &str, runs: usize) -> Result<(Duration, usize), dockerfile::Error> {
    let mut best = Duration::MAX;
    let mut stages = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let df = dockerfile::parse(text)?;
        best = best.min(t.elapsed());
        stages = df.stages.len();
    }
    Ok((best, stages))
}

fn main() -> Result<(), dockerfile::Error> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![20_000, 40_000]
    } else {
        sizes
    };
    let mut first: Option<(usize, Duration)> = None;
    for n in sizes {
        let text = generate(n);
        let lines = text.lines().count();
        let (t, stages) = best_parse(&text, 5)?;
        let per_line = t.as_nanos() as f64 / lines as f64;
        print!(
            "{lines} lines, {} KiB, {stages} stages: parse {:.2} ms ({per_line:.0} ns/line)",
            text.len() / 1024,
            t.as_secs_f64() * 1e3
        );
        match first {
            Some((l0, t0)) => println!(
                "; {:.2}x the lines took {:.2}x the time",
                lines as f64 / l0 as f64,
                t.as_secs_f64() / t0.as_secs_f64()
            ),
            None => {
                println!();
                first = Some((lines, t));
            }
        }
    }
    Ok(())
}
