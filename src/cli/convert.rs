//! Conversions from the command line's types to the types the rest of the binary uses.

use super::options::{ContextSource, Level, LogFormat, Options};

impl From<Level> for tracing::Level {
    /// logrus' fatal and panic have no tracing twin: both log as errors.
    fn from(l: Level) -> tracing::Level {
        match l {
            Level::Trace => tracing::Level::TRACE,
            Level::Debug => tracing::Level::DEBUG,
            Level::Info => tracing::Level::INFO,
            Level::Warn => tracing::Level::WARN,
            Level::Error | Level::Fatal | Level::Panic => tracing::Level::ERROR,
        }
    }
}

impl From<LogFormat> for crate::logging::Format {
    fn from(f: LogFormat) -> crate::logging::Format {
        match f {
            LogFormat::Text => crate::logging::Format::Text,
            LogFormat::Color => crate::logging::Format::Color,
            LogFormat::Json => crate::logging::Format::Json,
        }
    }
}

impl ContextSource {
    /// Where the context comes from, safe to log or trace: no user, password or query.
    pub fn redacted(&self) -> String {
        match self {
            ContextSource::Dir(p) => format!("dir://{}", p.display()),
            ContextSource::Tar(p) => format!("tar://{}", p.display()),
            ContextSource::TarStdin => "tar://stdin".into(),
            remote => match remote.remote() {
                Ok(Some(s)) => s.display(),
                _ => "(remote)".into(),
            },
        }
    }

    /// The remote source this context names; `None` for a directory or tar archive.
    pub fn remote(&self) -> Result<Option<contextsrc::Source>, contextsrc::Error> {
        match self {
            ContextSource::Dir(_) | ContextSource::Tar(_) | ContextSource::TarStdin => Ok(None),
            ContextSource::Git {
                repo,
                reference,
                commit,
            } => Ok(Some(contextsrc::Source::Git(contextsrc::GitUrl {
                repo: repo.clone(),
                reference: reference.clone(),
                commit: commit.clone(),
            }))),
            ContextSource::Gcs(s) | ContextSource::S3(s) | ContextSource::Https(s) => {
                contextsrc::Source::parse(s)
            }
        }
    }
}

impl Options {
    /// What a remote context fetch needs: `--git`, the registry's TLS flags (for HTTPS
    /// tarballs), the environment's credentials and endpoints (`env`, as read at start) and
    /// the resolver.
    pub fn remote_context_options(
        &self,
        env: contextsrc::Env,
        resolver: resolve::Resolver,
    ) -> contextsrc::Options {
        contextsrc::Options {
            git: self.git.clone(),
            tls: contextsrc::TlsOptions {
                skip_verify_hosts: self.registry.skip_tls_verify_registries.clone(),
                ca_certs: self.registry.registry_certificates.clone(),
            },
            env,
            resolver,
            ..Default::default()
        }
    }
}
