//! One call to install: [`builder()`] → [`XrayBuilder`] → [`XrayBuilder::install`].
//!
//! `install()` sets the global `tracing` subscriber (a registry and this crate's layer, with a
//! filter of its own, plus printed logs when asked for, filtered by `RUST_LOG`), the global
//! propagator (X-Ray and W3C) and the global tracer provider (X-Ray trace ids,
//! [`XrayParentBasedSampler`], [`XraySpanProcessor`], [`XrayExporter`]), and returns an [`XrayGuard`] that
//! flushes on drop. [`XrayBuilder::build_layer`] builds the same pipeline without touching any
//! global, for programs that compose their own subscriber.

use std::sync::atomic::Ordering;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::Key;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing::Subscriber;
use tracing_subscriber::filter::{filter_fn, FilterExt, Targets};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;
#[cfg(feature = "install")]
use tracing_subscriber::{filter::EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::{self, Environment};
use crate::error::BuildError;
use crate::error_events::ExceptionLayer;
use crate::stats::{ExportStats, StatsHandle, INTERNAL_LOG_TARGET};
use crate::{resource, XrayExporterBuilder, XrayIdGenerator, XrayParentBasedSampler, XraySpanProcessor};

/// Filter directives that keep this crate's request and invocation spans whatever the X-Ray
/// filter says: without them every span of a request would start a trace of its own.
const STRUCTURAL_SPANS: &str = "xray_bridge::http=info,xray_bridge::lambda=info";

/// What reaches X-Ray, and what `install()` prints, when neither code nor the environment says.
const DEFAULT_FILTER: &str = "info";

/// Starts configuring the X-Ray pipeline.
///
/// ```no_run
/// let xray = xray_bridge::builder().with_service_name("orders-api").install()?;
/// tracing::info_span!("startup").in_scope(|| { /* a segment in X-Ray */ });
/// xray.shutdown().ok();
/// # Ok::<(), xray_bridge::BuildError>(())
/// ```
pub fn builder() -> XrayBuilder {
    XrayBuilder::default()
}

/// Configures the pipeline; see [`builder()`]. Values set here beat environment variables.
#[derive(Clone, Debug, Default)]
#[must_use = "call install() or build_layer()"]
pub struct XrayBuilder {
    service_name: Option<String>,
    resource: Option<Resource>,
    exporter: XrayExporterBuilder,
    lambda_mode: Option<bool>,
    enabled: Option<bool>,
    span_details: bool,
    xray_filter: Option<String>,
    #[cfg(feature = "install")]
    log_filter: Option<String>,
    #[cfg(feature = "install")]
    log_output: bool,
    queue_size: Option<usize>,
}

impl XrayBuilder {
    /// The service name (`service.name`, the name of server segments). Beats
    /// `OTEL_SERVICE_NAME`; in Lambda the default is the function name, else `unknown_service`.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Resource attributes of your own (`deployment.environment`, `service.version`, ...),
    /// added to what is detected; where both name a key, yours wins. Its `service.name` is
    /// the service name unless [`XrayBuilder::with_service_name`] sets one.
    pub fn with_resource(mut self, resource: Resource) -> Self {
        self.resource = Some(resource);
        self
    }

    /// Exporter settings (daemon address, annotations, ...).
    pub fn with_exporter(mut self, exporter: XrayExporterBuilder) -> Self {
        self.exporter = exporter;
        self
    }

    /// Lambda mode (spans exported as they end, every span a subsegment of the function's
    /// segment, resource from the Lambda environment). Chosen by itself when
    /// `AWS_LAMBDA_FUNCTION_NAME` is set.
    pub fn with_lambda_mode(mut self, lambda: bool) -> Self {
        self.lambda_mode = Some(lambda);
        self
    }

    /// Turns the whole pipeline on or off. Beats `AWS_XRAY_SDK_ENABLED=false` and
    /// `OTEL_SDK_DISABLED=true`; when off, nothing is installed and nothing is exported.
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = Some(enabled);
        self
    }

    /// Also record tracing-opentelemetry's per-span details (code location, thread, target,
    /// busy/idle time) as metadata. Off by default: X-Ray shows none of them and they cost time
    /// on every span.
    pub fn with_span_details(mut self, details: bool) -> Self {
        self.span_details = details;
        self
    }

    /// `tracing` filter directives for what reaches X-Ray (e.g. `info,aws_smithy_runtime=debug`).
    /// Beats `XRAY_BRIDGE_FILTER`; the default is `info` (every span and event at INFO and
    /// above, from every target). This crate's request and invocation spans are kept whatever
    /// it says, and its own warnings never are. `RUST_LOG` plays no part in it.
    pub fn with_xray_filter(mut self, directives: impl Into<String>) -> Self {
        self.xray_filter = Some(directives.into());
        self
    }

    /// `tracing` filter directives for the logs [`XrayBuilder::install`] prints (see
    /// [`XrayBuilder::with_log_output`]). Beats `RUST_LOG`; the default is `info`. It never
    /// decides what reaches X-Ray.
    #[cfg(feature = "install")]
    pub fn with_log_filter(mut self, directives: impl Into<String>) -> Self {
        self.log_filter = Some(directives.into());
        self
    }

    /// Also print `tracing` events and spans to standard output (what CloudWatch Logs collects
    /// in Lambda), filtered by [`XrayBuilder::with_log_filter`] or `RUST_LOG`. Off by default.
    #[cfg(feature = "install")]
    pub fn with_log_output(mut self, print: bool) -> Self {
        self.log_output = print;
        self
    }

    /// The most spans waiting to be sent (default 2048); when it is full, spans are dropped
    /// and counted. Beats `OTEL_BSP_MAX_QUEUE_SIZE`.
    pub fn with_queue_size(mut self, spans: usize) -> Self {
        self.queue_size = Some(spans);
        self
    }

    /// Installs the pipeline globally and returns its guard.
    ///
    /// Keep the guard until the program ends (`let xray = ...`, not `let _ = ...`): dropping
    /// it flushes, and spans that end after that are still exported but may be lost at exit.
    ///
    /// # Errors
    ///
    /// What [`XrayBuilder::build_layer`] returns, an
    /// [`InvalidValue`](crate::BuildErrorKind::InvalidValue) for a log filter (`RUST_LOG`)
    /// that cannot be parsed when log output is on, and
    /// [`AlreadyInstalled`](crate::BuildErrorKind::AlreadyInstalled) when a global `tracing`
    /// subscriber is already set.
    #[cfg(feature = "install")]
    pub fn install(self) -> Result<XrayGuard, BuildError> {
        let env = Environment::read();
        let logs = if self.log_output {
            let (directives, origin) = choose(
                &self.log_filter,
                "with_log_filter",
                &env.rust_log,
                config::RUST_LOG,
            );
            let filter = env_filter(&quiet_opentelemetry(directives), directives, origin)?
                .and(filter_fn(|metadata| !internal(metadata.target())));
            Some(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_filter(filter),
            )
        } else {
            None
        };
        let (layer, guard) = self.build(&env)?;
        if layer.is_none() && logs.is_none() {
            return Ok(guard);
        }
        // The exporter's own warnings (a daemon that refuses, a full queue) always reach the
        // user, on standard error.
        let warnings = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(std::io::stderr)
            .with_filter(Targets::new().with_target(INTERNAL_LOG_TARGET, tracing::Level::WARN));
        tracing_subscriber::registry()
            .with(layer)
            .with(warnings)
            .with(logs)
            .try_init()
            .map_err(BuildError::already_installed)?;
        let Some(provider) = guard.tracer_provider() else {
            // Disabled: the logs are printed, nothing else is installed.
            return Ok(guard);
        };
        opentelemetry::global::set_text_map_propagator(crate::XrayPropagator::with_trace_context());
        opentelemetry::global::set_tracer_provider(provider.clone());
        Ok(guard)
    }

    /// The layer and its guard, touching no global state: add the layer to your own
    /// subscriber. The layer carries its own filter ([`XrayBuilder::with_xray_filter`]), so
    /// other layers' filters do not change what reaches X-Ray. When the pipeline is disabled
    /// the layer does nothing.
    ///
    /// Keep the guard as long as the layer is in use: dropping it flushes, and spans that end
    /// after that are still exported but may be lost at exit.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`](crate::BuildErrorKind::InvalidValue) for a bad X-Ray filter, daemon
    /// address or queue size (naming the method or variable it came from and the value);
    /// [`Socket`](crate::BuildErrorKind::Socket) or [`Thread`](crate::BuildErrorKind::Thread)
    /// when the socket or the sending thread cannot be opened.
    pub fn build_layer<S>(self) -> Result<(XrayLayer<S>, XrayGuard), BuildError>
    where
        S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        // Boxed: an `Option` layer would not forward `on_register_dispatch`, which the
        // exception layer needs.
        let (layer, guard) = self.build(&Environment::read())?;
        let layer: XrayLayer<S> = match layer {
            Some(layer) => Box::new(layer),
            None => Box::new(tracing_subscriber::layer::Identity::new()),
        };
        Ok((layer, guard))
    }

    fn build<S>(
        self,
        env: &Environment,
    ) -> Result<(Option<impl Layer<S> + Send + Sync + 'static>, XrayGuard), BuildError>
    where
        S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        if self.enabled.is_none() {
            for warning in env.ignored_switches() {
                crate::stats::say(format_args!("{warning}"));
            }
        }
        if !self.enabled.unwrap_or_else(|| env.enabled()) {
            return Ok((None, XrayGuard { installed: None }));
        }
        let (directives, origin) = choose(
            &self.xray_filter,
            "with_xray_filter",
            &env.xray_bridge_filter,
            config::XRAY_BRIDGE_FILTER,
        );
        let filter = xray_filter(directives, origin)?;
        let lambda = self.lambda_mode.unwrap_or_else(|| env.in_lambda());
        let given = self.resource.unwrap_or_else(|| Resource::builder_empty().build());
        let service_name = self
            .service_name
            .or_else(|| {
                given
                    .get(&Key::from_static_str("service.name"))
                    .map(|name| name.to_string())
            })
            .or_else(|| env.otel_service_name.clone())
            .or_else(|| env.aws_lambda_function_name.clone())
            .unwrap_or_else(|| "unknown_service".to_owned());
        let exporter = self.exporter.with_lambda_mode(lambda).build_in(env)?;
        let stats = exporter.stats_handle();
        let mut processor = XraySpanProcessor::builder(exporter).with_lambda_mode(lambda);
        if let Some(spans) = self.queue_size {
            processor = processor.with_queue_size(spans);
        }
        let resource = resource::detect(&service_name, &given, env);
        let provider = pipeline(processor.build()?, resource);
        let layer = lean_layer(provider.tracer("xray-bridge"), self.span_details)
            .and_then(ExceptionLayer::new())
            .with_filter(filter.and(filter_fn(|metadata| exported(metadata.target()))));
        let guard = XrayGuard {
            installed: Some(Installed {
                provider,
                stats,
                service_name,
            }),
        };
        Ok((Some(layer), guard))
    }
}

/// The value set in code, else the environment's, else [`DEFAULT_FILTER`], with where it came
/// from.
fn choose<'a>(
    code: &'a Option<String>,
    method: &'static str,
    environment: &'a Option<String>,
    variable: &'static str,
) -> (&'a str, &'static str) {
    match (code, environment) {
        (Some(directives), _) => (directives, method),
        (None, Some(directives)) => (directives, variable),
        (None, None) => (DEFAULT_FILTER, "default filter"),
    }
}

/// What reaches X-Ray: `directives` (targets and levels, as in `RUST_LOG` but without span and
/// field filters) plus this crate's structural spans. A static filter: it decides once per
/// callsite and costs nothing per span, where an `EnvFilter` takes locks on every span.
fn xray_filter(directives: &str, origin: &'static str) -> Result<Targets, BuildError> {
    format!("{directives},{STRUCTURAL_SPANS}").parse().map_err(
        |err: tracing_subscriber::filter::ParseError| {
            let reason = format!("{err} (targets and levels only, e.g. \"info,aws_smithy_runtime=debug\")");
            BuildError::invalid_value(origin, directives, reason).caused_by(err)
        },
    )
}

#[cfg(feature = "install")]
/// `directives` as a filter; a bad one is a [`BuildError`] naming `origin` and quoting `given`,
/// the directives as the user wrote them.
fn env_filter(directives: &str, given: &str, origin: &'static str) -> Result<EnvFilter, BuildError> {
    EnvFilter::try_new(directives)
        .map_err(|err| BuildError::invalid_value(origin, given, &err).caused_by(err))
}

#[cfg(feature = "install")]
/// The printed-log `directives` without OpenTelemetry's own diagnostics below WARN ("Global
/// tracer provider is set", ...), unless they name an OpenTelemetry target themselves.
fn quiet_opentelemetry(directives: &str) -> String {
    if directives.contains("opentelemetry") {
        directives.to_owned()
    } else {
        format!("{directives},opentelemetry=warn")
    }
}

/// The `tracing` layer of this crate, as [`XrayBuilder::build_layer`] and
/// [`tracing_layer`] return it: a type to name where the layer is stored.
pub type XrayLayer<S> = Box<dyn Layer<S> + Send + Sync + 'static>;

/// The `tracing` layer [`XrayBuilder::install`] uses, for a tracer of a provider you build
/// yourself (to add other exporters, say): tracing-opentelemetry's layer without the per-span
/// details X-Ray does not show (code location, thread, target, busy/idle time), with errors
/// recorded as typed exceptions (see the README's "Errors become exceptions"), and without the
/// spans and events that must never be exported (the exporter's own warnings,
/// `lambda_runtime`'s per-invocation span).
pub fn tracing_layer<S>(tracer: SdkTracer) -> XrayLayer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
{
    Box::new(
        lean_layer(tracer, false)
            .and_then(ExceptionLayer::new())
            .with_filter(filter_fn(|metadata| exported(metadata.target()))),
    )
}

/// tracing-opentelemetry's layer without the per-span details X-Ray does not show, unless
/// `span_details`, and without its own mapping of errors to exceptions: the exception layer
/// records them, with their types.
fn lean_layer<S>(
    tracer: SdkTracer,
    span_details: bool,
) -> tracing_opentelemetry::OpenTelemetryLayer<S, SdkTracer>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(span_details)
        .with_threads(span_details)
        .with_tracked_inactivity(span_details)
        .with_target(span_details)
        .with_error_fields_to_exceptions(false)
        .with_error_events_to_exceptions(false)
        .with_error_records_to_exceptions(false)
}

/// Whether spans and events of `target` go to X-Ray: never the exporter's own warnings (no
/// feedback loop), and never `lambda_runtime`'s own per-invocation span, which would start a
/// stray trace of its own every invocation.
fn exported(target: &str) -> bool {
    !(internal(target) || target.starts_with("lambda_runtime"))
}

/// Whether `target` is the exporter's own.
fn internal(target: &str) -> bool {
    target.starts_with(INTERNAL_LOG_TARGET)
}

/// The tracer provider: X-Ray ids, X-Ray parent sampling, and the processor.
fn pipeline(processor: XraySpanProcessor, resource: Resource) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_id_generator(XrayIdGenerator::default())
        .with_sampler(XrayParentBasedSampler::new(Sampler::AlwaysOn))
        .with_resource(resource)
        .with_span_processor(processor)
        .build()
}

/// The handle on a pipeline: flush, shut down, read its counters.
///
/// Dropping it flushes (waiting at most two seconds) but does not stop the pipeline: spans that
/// end afterwards are still exported, with a warning, since those ending just before the
/// process exits may be lost. Keep it until the end of `main` and call
/// [`XrayGuard::shutdown`].
#[derive(Debug)]
#[must_use = "keep the guard until the program ends (`let xray = ...`), then call `xray.shutdown()`"]
pub struct XrayGuard {
    installed: Option<Installed>,
}

#[derive(Debug)]
struct Installed {
    provider: SdkTracerProvider,
    stats: StatsHandle,
    service_name: String,
}

impl XrayGuard {
    /// Sends every finished span now.
    ///
    /// # Errors
    ///
    /// When the pipeline is shut down or the flush times out (2 s).
    pub fn flush(&self) -> OTelSdkResult {
        self.tracer_provider()
            .map_or(Ok(()), SdkTracerProvider::force_flush)
    }

    /// Flushes and stops the pipeline.
    ///
    /// # Errors
    ///
    /// When the pipeline was already shut down or the flush times out.
    pub fn shutdown(mut self) -> OTelSdkResult {
        match self.installed.take() {
            Some(installed) => installed.provider.shutdown(),
            None => Ok(()),
        }
    }

    /// The exporter's counters (all zero when the pipeline is disabled).
    pub fn stats(&self) -> ExportStats {
        self.installed
            .as_ref()
            .map(|i| i.stats.snapshot())
            .unwrap_or_default()
    }

    /// A handle that keeps reading the exporter's counters after the guard is gone.
    pub fn stats_handle(&self) -> Option<StatsHandle> {
        self.installed.as_ref().map(|i| i.stats.clone())
    }

    /// False when the pipeline was disabled (nothing is exported).
    pub fn is_enabled(&self) -> bool {
        self.installed.is_some()
    }

    /// The service name in use.
    pub fn service_name(&self) -> Option<&str> {
        self.installed.as_ref().map(|i| i.service_name.as_str())
    }

    /// The tracer provider of the pipeline (`None` when it is disabled), for tracers of your
    /// own beside the `tracing` layer.
    pub fn tracer_provider(&self) -> Option<&SdkTracerProvider> {
        self.installed.as_ref().map(|i| &i.provider)
    }
}

impl Drop for XrayGuard {
    fn drop(&mut self) {
        if let Some(installed) = self.installed.take() {
            installed.stats.0.unguarded.store(true, Ordering::Relaxed);
            let _ = installed.provider.force_flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;

    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    use super::*;
    use crate::XrayExporter;

    /// The documents of a `Server` span with a remote parent and an INFO and a DEBUG child,
    /// through the pipeline `builder` builds in `env`: (name, type) of each.
    fn documents(builder: XrayBuilder, env: &Environment) -> Vec<(String, String)> {
        let daemon = UdpSocket::bind("127.0.0.1:0").expect("bind");
        daemon
            .set_read_timeout(Some(std::time::Duration::from_millis(300)))
            .expect("timeout");
        let (layer, xray) = builder
            .with_exporter(
                XrayExporter::builder()
                    .with_daemon_address(daemon.local_addr().expect("address").to_string()),
            )
            .build::<Registry>(env)
            .expect("builds");
        let parent = opentelemetry::Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(0x5759_e988_bd86_2e3f_e1be_46a9_9427_2793_u128),
            SpanId::from(0x5399_5c3f_42cd_8ad8_u64),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        ));
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let request = tracing::info_span!("request", otel.kind = "server");
            let _ = request.set_parent(parent);
            request.in_scope(|| {
                tracing::info_span!("step").in_scope(|| {});
                tracing::debug_span!("detail").in_scope(|| {});
            });
        });
        xray.flush().expect("flush");
        let mut buffer = [0u8; 65_536];
        let mut documents = Vec::new();
        while let Ok(n) = daemon.recv(&mut buffer) {
            let json = &buffer[crate::encode::DAEMON_HEADER.len()..n];
            flatten(&serde_json::from_slice(json).expect("JSON"), &mut documents);
        }
        documents.sort();
        documents
    }

    /// (name, type) of `document` and of every subsegment embedded in it.
    fn flatten(document: &serde_json::Value, out: &mut Vec<(String, String)>) {
        let field = |key: &str| document[key].as_str().unwrap_or("segment").to_owned();
        out.push((field("name"), field("type")));
        for embedded in document["subsegments"].as_array().into_iter().flatten() {
            flatten(embedded, out);
        }
    }

    fn pair(name: &str, kind: &str) -> (String, String) {
        (name.to_owned(), kind.to_owned())
    }

    #[test]
    fn lambda_mode_comes_from_code_then_the_environment_then_the_default() {
        let in_lambda = Environment {
            aws_lambda_function_name: Some("orders".into()),
            ..Environment::default()
        };
        let server = |kind: &str| vec![pair("orders", kind), pair("step", "subsegment")];
        assert_eq!(
            documents(builder().with_lambda_mode(false), &in_lambda),
            server("segment")
        );
        assert_eq!(
            documents(builder(), &in_lambda),
            server("subsegment"),
            "Lambda: all subsegments"
        );
        let outside = Environment::default();
        assert_eq!(
            documents(
                builder().with_lambda_mode(true).with_service_name("orders"),
                &outside
            ),
            server("subsegment")
        );
        assert_eq!(
            documents(builder().with_service_name("orders"), &outside),
            server("segment")
        );
    }

    #[test]
    fn the_x_ray_filter_comes_from_code_then_the_environment_then_the_default() {
        let env = Environment {
            xray_bridge_filter: Some("warn".into()),
            rust_log: Some("debug".into()),
            ..Environment::default()
        };
        let named = || builder().with_service_name("orders").with_lambda_mode(false);
        let everything = vec![
            pair("detail", "subsegment"),
            pair("orders", "segment"),
            pair("step", "subsegment"),
        ];
        assert_eq!(documents(named().with_xray_filter("debug"), &env), everything);
        assert_eq!(
            documents(named(), &env),
            vec![],
            "XRAY_BRIDGE_FILTER=warn: no INFO span"
        );
        assert_eq!(
            documents(named(), &Environment::default()),
            vec![pair("orders", "segment"), pair("step", "subsegment")],
            "default: INFO and above, whatever RUST_LOG says"
        );
    }

    #[test]
    fn a_bad_x_ray_filter_is_a_build_error_naming_it() {
        let env = Environment {
            xray_bridge_filter: Some("info,orders=loud".into()),
            ..Environment::default()
        };
        let err = builder().build::<Registry>(&env).err().expect("rejected");
        assert_eq!(
            err.to_string(),
            "invalid XRAY_BRIDGE_FILTER value \"info,orders=loud\": error parsing level filter: \
             expected one of \"off\", \"error\", \"warn\", \"info\", \"debug\", \"trace\", or a number 0-5 \
             (targets and levels only, e.g. \"info,aws_smithy_runtime=debug\")"
        );
    }
    use tracing_subscriber::Registry;

    fn guard(builder: XrayBuilder, env: Environment) -> XrayGuard {
        let (_layer, guard) = builder
            .with_exporter(XrayExporter::builder().with_daemon_address("127.0.0.1:2000"))
            .build::<Registry>(&env)
            .expect("builds");
        guard
    }

    #[test]
    fn code_beats_environment_for_the_service_name() {
        let env = Environment {
            otel_service_name: Some("from-otel-env".into()),
            aws_lambda_function_name: Some("from-lambda".into()),
            ..Environment::default()
        };
        let named = |builder: XrayBuilder, env: &Environment| {
            guard(builder, env.clone()).service_name().map(str::to_owned)
        };
        assert_eq!(
            named(builder().with_service_name("from-code"), &env).as_deref(),
            Some("from-code")
        );
        assert_eq!(named(builder(), &env).as_deref(), Some("from-otel-env"));
        let lambda_only = Environment {
            otel_service_name: None,
            ..env.clone()
        };
        assert_eq!(named(builder(), &lambda_only).as_deref(), Some("from-lambda"));
        assert_eq!(
            named(builder(), &Environment::default()).as_deref(),
            Some("unknown_service")
        );
    }

    #[test]
    fn either_switch_disables_everything_unless_code_says_otherwise() {
        let off = |sdk: Option<&str>, otel: Option<&str>| Environment {
            aws_xray_sdk_enabled: sdk.map(Into::into),
            otel_sdk_disabled: otel.map(Into::into),
            ..Environment::default()
        };
        assert!(!guard(builder(), off(Some("false"), None)).is_enabled());
        assert!(!guard(builder(), off(Some("FALSE"), None)).is_enabled());
        assert!(!guard(builder(), off(None, Some("true"))).is_enabled());
        assert!(guard(builder(), off(Some("true"), Some("false"))).is_enabled());
        assert!(guard(builder(), off(None, None)).is_enabled());
        assert!(guard(builder().with_enabled(true), off(Some("false"), None)).is_enabled());
        assert!(!guard(builder().with_enabled(false), off(None, None)).is_enabled());
    }

    #[test]
    fn the_exporters_own_logs_and_the_lambda_runtimes_spans_are_not_exported() {
        assert!(!exported("xray_bridge::internal"));
        assert!(!exported("lambda_runtime::runtime"));
        assert!(exported("orders::handler"));
        assert!(exported("xray_bridge::lambda"));
    }
}
