//! Conversions from the command line's types to the types the rest of the binary uses.

use super::options::{Level, LogFormat};

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
