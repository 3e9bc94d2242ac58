//! Conversions from the command line's types to the types the rest of the binary uses.

use super::options::{Level, LogFormat, Options};

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
