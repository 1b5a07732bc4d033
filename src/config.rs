//! Every environment variable the crate reads, named exactly as the variable.
//!
//! This is the only module that reads the environment (enforced by clippy's
//! `disallowed-methods`); a value set in code always beats the variable.
#![allow(clippy::disallowed_methods)]

/// `host:port` or `tcp:host:port udp:host:port`: where the X-Ray daemon listens.
pub const AWS_XRAY_DAEMON_ADDRESS: &str = "AWS_XRAY_DAEMON_ADDRESS";

/// The daemon address used when neither code nor the environment gives one.
pub const DEFAULT_DAEMON_ADDRESS: &str = "127.0.0.1:2000";

/// The value of `name`, or `None` when it is unset, empty or not Unicode.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}
