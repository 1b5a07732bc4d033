//! The one error this crate returns to its host: a configuration that cannot work.
//!
//! Failures while exporting (a refused datagram, an oversize document, an invalid trace id) are
//! never raised to the application: they are counted in [`crate::ExportStats`] instead.

use std::error::Error;
use std::fmt;

/// Why an exporter or pipeline could not be built.
///
/// Its `Display` is one sentence naming what was wrong (for a bad value: where it came from
/// and the value as given). `Debug` prints the same sentence followed by the underlying
/// error, so `fn main() -> Result<(), BuildError>` reports it readably.
pub struct BuildError {
    kind: BuildErrorKind,
    origin: Option<&'static str>,
    value: Option<String>,
    message: String,
    underlying: Option<Box<dyn Error + Send + Sync + 'static>>,
}

/// What kind of [`BuildError`] it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BuildErrorKind {
    /// A configuration value (from code or from an environment variable) cannot be used.
    InvalidValue,
    /// The UDP socket towards the daemon could not be opened.
    Socket,
    /// The thread that sends spans could not be started.
    Thread,
    /// `install()` found a global `tracing` subscriber already set; `build_layer()` adds this
    /// crate's layer to a subscriber of your own instead.
    AlreadyInstalled,
}

impl BuildError {
    /// A bad `value` from `origin` (an environment variable or a builder method).
    pub(crate) fn invalid_value(origin: &'static str, value: &str, reason: impl fmt::Display) -> Self {
        BuildError {
            kind: BuildErrorKind::InvalidValue,
            origin: Some(origin),
            value: Some(value.to_owned()),
            message: format!("invalid {origin} value {value:?}: {reason}"),
            underlying: None,
        }
    }

    /// The socket towards the daemon failed to open.
    pub(crate) fn socket(err: std::io::Error) -> Self {
        Self::wrapping(
            BuildErrorKind::Socket,
            "cannot open a UDP socket towards the X-Ray daemon",
            err,
        )
    }

    /// The sending thread failed to start.
    pub(crate) fn thread(err: std::io::Error) -> Self {
        Self::wrapping(
            BuildErrorKind::Thread,
            "cannot start the thread that sends spans",
            err,
        )
    }

    /// A global subscriber was already set.
    #[cfg(feature = "install")]
    pub(crate) fn already_installed(err: impl Error + Send + Sync + 'static) -> Self {
        Self::wrapping(
            BuildErrorKind::AlreadyInstalled,
            "a global tracing subscriber is already set; use build_layer() to add this crate's layer to it",
            err,
        )
    }

    fn wrapping(kind: BuildErrorKind, what: &str, err: impl Error + Send + Sync + 'static) -> Self {
        BuildError {
            kind,
            origin: None,
            value: None,
            message: format!("{what}: {err}"),
            underlying: Some(Box::new(err)),
        }
    }

    /// Keeps `err`, whose text `reason` already quotes, as the [`Error::source`] of this error.
    #[cfg(feature = "layer")]
    pub(crate) fn caused_by(mut self, err: impl Error + Send + Sync + 'static) -> Self {
        self.underlying = Some(Box::new(err));
        self
    }

    /// What kind of error it is.
    pub fn kind(&self) -> BuildErrorKind {
        self.kind
    }

    /// For a bad value: where it came from, the environment variable (`AWS_XRAY_DAEMON_ADDRESS`)
    /// or the builder method (`with_daemon_address`).
    pub fn origin(&self) -> Option<&'static str> {
        self.origin
    }

    /// For a bad value: the value as given.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The sentence, then each deeper cause on a line of its own: what `main` prints when it returns
/// the error. (The sentence already quotes the underlying error itself.)
impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        let mut cause = self.source().and_then(Error::source);
        while let Some(err) = cause {
            write!(f, "\n  caused by: {err}")?;
            cause = err.source();
        }
        Ok(())
    }
}

impl Error for BuildError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.underlying
            .as_deref()
            .map(|err| err as &(dyn Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_the_readable_sentence_and_its_causes() {
        let err = BuildError::socket(std::io::Error::new(std::io::ErrorKind::AddrInUse, "port taken"));
        assert_eq!(
            format!("{err:?}"),
            "cannot open a UDP socket towards the X-Ray daemon: port taken"
        );
        let err = BuildError::invalid_value("AWS_XRAY_DAEMON_ADDRESS", "daemon", "\"daemon\" has no port");
        assert_eq!(
            format!("{err:?}"),
            r#"invalid AWS_XRAY_DAEMON_ADDRESS value "daemon": "daemon" has no port"#
        );
        assert_eq!(err.kind(), BuildErrorKind::InvalidValue);
        assert_eq!(err.origin(), Some("AWS_XRAY_DAEMON_ADDRESS"));
        assert_eq!(err.value(), Some("daemon"));
    }
}
