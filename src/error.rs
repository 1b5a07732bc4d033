//! The one error this crate returns to its host: a configuration that cannot work.
//!
//! Failures while exporting (a refused datagram, an oversize document, an invalid trace id) are
//! never raised to the application: they are counted in [`crate::ExportStats`] instead.

use std::fmt;

/// Why an exporter or pipeline could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// A configuration value (from code or from an environment variable) cannot be used.
    InvalidValue {
        /// Where the value came from: the environment variable or the builder method.
        source: &'static str,
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The UDP socket towards the daemon could not be opened.
    Socket(std::io::Error),
    /// The thread that sends spans could not be started.
    Thread(std::io::Error),
    /// `install()` found a global `tracing` subscriber already set; use `build_layer()` to
    /// add this crate's layer to it instead.
    AlreadyInstalled(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::InvalidValue {
                source,
                value,
                reason,
            } => {
                write!(f, "invalid {source} value {value:?}: {reason}")
            }
            BuildError::Socket(err) => write!(f, "cannot open a UDP socket towards the X-Ray daemon: {err}"),
            BuildError::Thread(err) => write!(f, "cannot start the thread that sends spans: {err}"),
            BuildError::AlreadyInstalled(err) => {
                write!(
                    f,
                    "a global tracing subscriber is already set ({err}); use build_layer() instead"
                )
            }
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Socket(err) | BuildError::Thread(err) => Some(err),
            BuildError::InvalidValue { .. } | BuildError::AlreadyInstalled(_) => None,
        }
    }
}
