//! Every environment variable the crate reads, named exactly as the variable.
//!
//! This is the only module that reads the environment (enforced by clippy's
//! `disallowed-methods`); a value set in code always beats the variable. `Environment` is one
//! snapshot of all of them, taken when a pipeline is built.
#![allow(clippy::disallowed_methods)]

/// `host:port` or `tcp:host:port udp:host:port`: where the X-Ray daemon listens.
pub(crate) const AWS_XRAY_DAEMON_ADDRESS: &str = "AWS_XRAY_DAEMON_ADDRESS";
/// The service name (`service.name`) when code sets none.
pub(crate) const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// Overrides the name of every segment (the X-Ray SDKs' variable).
pub(crate) const AWS_XRAY_TRACING_NAME: &str = "AWS_XRAY_TRACING_NAME";
/// `false` turns the whole pipeline off (the X-Ray SDKs' switch).
pub(crate) const AWS_XRAY_SDK_ENABLED: &str = "AWS_XRAY_SDK_ENABLED";
/// `true` turns the whole pipeline off (OpenTelemetry's switch).
pub(crate) const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// The `tracing` filter directives for the logs `install()` prints (default `info`); it never
/// decides what reaches X-Ray.
pub(crate) const RUST_LOG: &str = "RUST_LOG";
/// The `tracing` filter directives for what reaches X-Ray (default `info`; this crate's request
/// and invocation spans are always kept).
pub(crate) const XRAY_BRIDGE_FILTER: &str = "XRAY_BRIDGE_FILTER";
/// The most spans the export queue holds (default 2048; OpenTelemetry's variable).
pub(crate) const OTEL_BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
/// Set by AWS Lambda: its presence selects Lambda mode.
pub(crate) const AWS_LAMBDA_FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";
/// Set by AWS Lambda: the function version (`faas.version`).
pub(crate) const AWS_LAMBDA_FUNCTION_VERSION: &str = "AWS_LAMBDA_FUNCTION_VERSION";
/// Set by AWS Lambda: the memory size in MB (`faas.max_memory`, in bytes).
pub(crate) const AWS_LAMBDA_FUNCTION_MEMORY_SIZE: &str = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";
/// Set by AWS Lambda: the log stream (`faas.instance`).
pub(crate) const AWS_LAMBDA_LOG_STREAM_NAME: &str = "AWS_LAMBDA_LOG_STREAM_NAME";
/// Set by AWS Lambda: the log group (`aws.log.group.names`).
pub(crate) const AWS_LAMBDA_LOG_GROUP_NAME: &str = "AWS_LAMBDA_LOG_GROUP_NAME";
/// Set by AWS Lambda and most AWS environments: the region (`cloud.region`).
pub(crate) const AWS_REGION: &str = "AWS_REGION";

/// The daemon address used when neither code nor the environment gives one.
pub(crate) const DEFAULT_DAEMON_ADDRESS: &str = "127.0.0.1:2000";

/// The value of `name`, or `None` when it is unset, empty or not Unicode.
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// Whether `name` is set to nothing but blanks (which counts as unset).
fn is_blank(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|value| value.to_string_lossy().trim().is_empty())
}

/// One reading of every variable the pipeline uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Environment {
    pub(crate) aws_xray_daemon_address: Option<String>,
    /// `AWS_XRAY_DAEMON_ADDRESS` is set but blank (so the default address is used).
    pub(crate) blank_daemon_address: bool,
    pub(crate) otel_service_name: Option<String>,
    pub(crate) aws_xray_tracing_name: Option<String>,
    pub(crate) aws_xray_sdk_enabled: Option<String>,
    pub(crate) otel_sdk_disabled: Option<String>,
    pub(crate) rust_log: Option<String>,
    pub(crate) xray_bridge_filter: Option<String>,
    pub(crate) aws_lambda_function_name: Option<String>,
    pub(crate) aws_lambda_function_version: Option<String>,
    pub(crate) aws_lambda_function_memory_size: Option<String>,
    pub(crate) aws_lambda_log_stream_name: Option<String>,
    pub(crate) aws_lambda_log_group_name: Option<String>,
    pub(crate) aws_region: Option<String>,
}

impl Environment {
    /// Reads the process environment.
    pub(crate) fn read() -> Self {
        Environment {
            aws_xray_daemon_address: var(AWS_XRAY_DAEMON_ADDRESS),
            blank_daemon_address: is_blank(AWS_XRAY_DAEMON_ADDRESS),
            otel_service_name: var(OTEL_SERVICE_NAME),
            aws_xray_tracing_name: var(AWS_XRAY_TRACING_NAME),
            aws_xray_sdk_enabled: var(AWS_XRAY_SDK_ENABLED),
            otel_sdk_disabled: var(OTEL_SDK_DISABLED),
            rust_log: var(RUST_LOG),
            xray_bridge_filter: var(XRAY_BRIDGE_FILTER),
            aws_lambda_function_name: var(AWS_LAMBDA_FUNCTION_NAME),
            aws_lambda_function_version: var(AWS_LAMBDA_FUNCTION_VERSION),
            aws_lambda_function_memory_size: var(AWS_LAMBDA_FUNCTION_MEMORY_SIZE),
            aws_lambda_log_stream_name: var(AWS_LAMBDA_LOG_STREAM_NAME),
            aws_lambda_log_group_name: var(AWS_LAMBDA_LOG_GROUP_NAME),
            aws_region: var(AWS_REGION),
        }
    }

    /// False when `AWS_XRAY_SDK_ENABLED=false` or `OTEL_SDK_DISABLED=true` (any case); any
    /// other value leaves the pipeline on (see [`Environment::ignored_switches`]).
    #[cfg(feature = "layer")]
    pub(crate) fn enabled(&self) -> bool {
        !(boolean(&self.aws_xray_sdk_enabled) == Some(false)
            || boolean(&self.otel_sdk_disabled) == Some(true))
    }

    /// The on/off switches set to something other than `true` or `false`, as warnings: they
    /// are ignored, as the X-Ray SDKs and OpenTelemetry ignore them, but not silently.
    #[cfg(feature = "layer")]
    pub(crate) fn ignored_switches(&self) -> Vec<String> {
        [
            (AWS_XRAY_SDK_ENABLED, &self.aws_xray_sdk_enabled),
            (OTEL_SDK_DISABLED, &self.otel_sdk_disabled),
        ]
        .into_iter()
        .filter(|(_, value)| value.is_some() && boolean(value).is_none())
        .map(|(name, value)| {
            format!(
                "{name}={:?} is neither \"true\" nor \"false\" and is ignored",
                value.as_deref().unwrap_or_default()
            )
        })
        .collect()
    }

    /// True inside AWS Lambda.
    pub(crate) fn in_lambda(&self) -> bool {
        self.aws_lambda_function_name.is_some()
    }
}

/// `true` or `false` in any case and with blanks around it; `None` for anything else.
#[cfg(feature = "layer")]
fn boolean(value: &Option<String>) -> Option<bool> {
    let value = value.as_deref()?.trim();
    if value.eq_ignore_ascii_case("true") {
        Some(true)
    } else if value.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}
