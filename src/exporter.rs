//! [`XrayExporter`]: an OpenTelemetry `SpanExporter` that translates each span, encodes it and
//! sends it to the X-Ray daemon.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::config::{self, Environment};
use crate::embed::{self, Family, Role};
use crate::emitter::{DaemonAddress, Emitter};
use crate::error::BuildError;
use crate::id::now_epoch_seconds;
use crate::outbox::{Outbox, Pacing};
use crate::redact::QueryStrings;
use crate::segment::{DocumentType, Segment};
use crate::stats::{self, Counters, ExportStats, Loss, StatsHandle, Trouble};
use crate::translate::{translate, Privacy, Rejected, ResourceInfo, TranslateConfig};

/// Sends spans to the X-Ray daemon as segment documents, one UDP datagram per document.
///
/// Give it to an [`XraySpanProcessor`](crate::XraySpanProcessor) (what
/// [`install()`](crate::XrayBuilder::install) does): the SDK's batch processor drops spans when
/// its queue is full without telling anyone, and sends 512 datagrams back to back every five
/// seconds, more than the daemon's socket buffer holds.
///
/// ```no_run
/// use opentelemetry_sdk::trace::SdkTracerProvider;
///
/// let exporter = xray_bridge::XrayExporter::builder()
///     .with_daemon_address("127.0.0.1:2000")
///     .with_indexed_attributes(["tenant"])
///     .build()?;
/// let provider = SdkTracerProvider::builder()
///     .with_batch_exporter(exporter)
///     .with_id_generator(xray_bridge::XrayIdGenerator::default())
///     .build();
/// # Ok::<(), xray_bridge::BuildError>(())
/// ```
///
/// Export never fails because of one span: invalid trace ids, oversize documents and refused
/// datagrams are counted (see [`XrayExporter::stats`]) and the rest of the batch goes on.
#[derive(Debug)]
pub struct XrayExporter {
    config: TranslateConfig,
    log_groups: Vec<String>,
    resource: ResourceInfo,
    daemon: DaemonAddress,
    outbox: Mutex<Outbox>,
    counters: Arc<Counters>,
    is_shutdown: AtomicBool,
}

/// Builds an [`XrayExporter`]; every setting has a default that matches AWS's collector.
#[derive(Clone, Debug, Default)]
pub struct XrayExporterBuilder {
    daemon_address: Option<String>,
    indexed_attributes: Vec<String>,
    index_all_attributes: bool,
    aws_log_groups: Vec<String>,
    trace_id_validation: bool,
    no_dots_in_annotation_keys: bool,
    segment_name: Option<String>,
    subsegments_only: bool,
    query_strings: QueryStrings,
    omit_sql_statements: bool,
}

impl XrayExporterBuilder {
    /// The daemon's address, `host:port` or `tcp:host:port udp:host:port`. Beats
    /// `AWS_XRAY_DAEMON_ADDRESS`; the default is `127.0.0.1:2000`.
    pub fn with_daemon_address(mut self, address: impl Into<String>) -> Self {
        self.daemon_address = Some(address.into());
        self
    }

    /// Attributes that become annotations (indexed and searchable) instead of metadata.
    /// A resource attribute is named `otel.resource.<key>` here.
    pub fn with_indexed_attributes<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.indexed_attributes = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Every scalar attribute becomes an annotation (default `false`). X-Ray keeps at most 50
    /// annotations per trace.
    pub fn with_index_all_attributes(mut self, index_all: bool) -> Self {
        self.index_all_attributes = index_all;
        self
    }

    /// CloudWatch log groups written into segments when the resource names none.
    pub fn with_aws_log_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.aws_log_groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// Drop (and count) spans whose trace id does not start with an epoch within the last 28
    /// days or the next 5 minutes (default `false`: every trace id is sent, so traces continued
    /// from W3C `traceparent` callers still export).
    pub fn with_trace_id_validation(mut self, validate: bool) -> Self {
        self.trace_id_validation = validate;
        self
    }

    /// Keep `.` in annotation keys (default `true`); when `false` it becomes `_`.
    pub fn with_dots_in_annotation_keys(mut self, allow: bool) -> Self {
        self.no_dots_in_annotation_keys = !allow;
        self
    }

    /// The name of this service's segments, whatever the spans say (subsegments keep their
    /// names), as the X-Ray SDKs use `AWS_XRAY_TRACING_NAME`. Beats that variable; by default
    /// segments are named by the reference's rules (the service name for servers).
    pub fn with_segment_name(mut self, name: impl Into<String>) -> Self {
        self.segment_name = Some(name.into());
        self
    }

    /// What happens to URL query strings, in every URL and every text that quotes one (error
    /// messages included): by default the values of sensitive parameters (`token`, `api_key`,
    /// `Signature`, `X-Amz-Credential`, ...) become `REDACTED`. Credentials in URLs and
    /// connection strings are removed whatever this says.
    pub fn with_query_strings(mut self, queries: QueryStrings) -> Self {
        self.query_strings = queries;
        self
    }

    /// Whether SQL statements (`db.statement`, `db.query.text`) are written: `sql`'s
    /// `sanitized_query` and, for databases without a `sql` block, metadata. On by default, as
    /// in AWS's collector; statements are written verbatim, so turn this off when they may
    /// carry literal values you must not send.
    pub fn with_sql_statements(mut self, write: bool) -> Self {
        self.omit_sql_statements = !write;
        self
    }

    /// Lambda mode: every span with a parent becomes a subsegment, even a `Server` or
    /// `Consumer` span, since in AWS Lambda the function's segment is Lambda's own. Off by
    /// default; [`builder()`](crate::builder) turns it on inside Lambda.
    pub fn with_lambda_mode(mut self, lambda: bool) -> Self {
        self.subsegments_only = lambda;
        self
    }

    /// Resolves the daemon address and opens the socket.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`](crate::BuildErrorKind::InvalidValue) when the daemon address (from
    /// [`XrayExporterBuilder::with_daemon_address`] or `AWS_XRAY_DAEMON_ADDRESS`) cannot be
    /// parsed or resolved; [`Socket`](crate::BuildErrorKind::Socket) when no UDP socket opens.
    pub fn build(self) -> Result<XrayExporter, BuildError> {
        self.build_in(&Environment::read())
    }

    /// [`XrayExporterBuilder::build`] with `env` as the environment.
    pub(crate) fn build_in(self, env: &Environment) -> Result<XrayExporter, BuildError> {
        let (address, origin) = match self.daemon_address {
            Some(address) => (address, "with_daemon_address"),
            None => match env.aws_xray_daemon_address.clone() {
                Some(address) => (address, config::AWS_XRAY_DAEMON_ADDRESS),
                None => {
                    if env.blank_daemon_address {
                        stats::say(format_args!(
                            "{} is set but empty; sending to the default {}",
                            config::AWS_XRAY_DAEMON_ADDRESS,
                            config::DEFAULT_DAEMON_ADDRESS
                        ));
                    }
                    (
                        config::DEFAULT_DAEMON_ADDRESS.to_owned(),
                        "default daemon address",
                    )
                }
            },
        };
        let daemon = DaemonAddress::parse_from(&address, origin)?;
        let counters = Arc::<Counters>::default();
        let outbox = Outbox::new(
            Emitter::connect(daemon.udp())?,
            daemon.udp(),
            Arc::clone(&counters),
        );
        let mut config = TranslateConfig::new(
            self.indexed_attributes,
            self.index_all_attributes,
            self.trace_id_validation,
            !self.no_dots_in_annotation_keys,
        );
        config.set_segment_name(
            self.segment_name
                .as_deref()
                .or(env.aws_xray_tracing_name.as_deref()),
        );
        config.subsegments_only = self.subsegments_only;
        config.privacy = Privacy {
            query_strings: self.query_strings,
            omit_statements: self.omit_sql_statements,
        };
        Ok(XrayExporter {
            config,
            resource: ResourceInfo::new(&Resource::builder_empty().build(), &self.aws_log_groups),
            log_groups: self.aws_log_groups,
            daemon,
            outbox: Mutex::new(outbox),
            counters,
            is_shutdown: AtomicBool::new(false),
        })
    }
}

impl XrayExporter {
    /// A builder with the defaults.
    pub fn builder() -> XrayExporterBuilder {
        XrayExporterBuilder::default()
    }

    /// The daemon this exporter sends to.
    pub fn daemon_address(&self) -> DaemonAddress {
        self.daemon
    }

    /// The counters now.
    pub fn stats(&self) -> ExportStats {
        self.stats_handle().snapshot()
    }

    /// A handle that keeps reading the counters after the exporter has moved into a provider.
    pub fn stats_handle(&self) -> StatsHandle {
        StatsHandle(Arc::clone(&self.counters))
    }

    /// The live counters, shared with a processor.
    pub(crate) fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// Translates, encodes and sends every span of `batch`, then settles the account of each:
    /// problems are counted, never raised.
    pub(crate) fn send_batch(&self, batch: &[SpanData], pacing: Pacing) {
        let now = now_epoch_seconds();
        // Every span is translated first, so that children can travel inside their parent.
        let mut documents = Vec::with_capacity(batch.len());
        let mut ends = Vec::with_capacity(batch.len());
        for span in batch {
            let start = documents.len();
            if let Err(Rejected::InvalidTraceId) =
                translate(span, &self.resource, &self.config, now, &mut documents)
            {
                documents.truncate(start);
                self.counters.lose(Loss::InvalidTraceId, 1);
                self.counters.warn(
                    Trouble::Loss(Loss::InvalidTraceId),
                    format_args!(
                        "span {:?} was dropped: its trace id is outside X-Ray's time window",
                        span.name
                    ),
                );
            }
            ends.push(documents.len());
        }
        let mut per_span = Vec::with_capacity(batch.len());
        let (mut rest, mut start) = (documents.as_mut_slice(), 0);
        for end in ends {
            let (own, tail) = rest.split_at_mut(end - start);
            per_span.push(own);
            (rest, start) = (tail, end);
        }
        let family = Family::of(batch, |i| role(per_span[i]));
        let names: Vec<&str> = batch.iter().map(|span| span.name.as_ref()).collect();
        let mut outbox = self.outbox.lock().unwrap_or_else(PoisonError::into_inner);
        for span in 0..batch.len() {
            if !per_span[span].is_empty() && !family.is_embedded(span) {
                outbox.send(span, &names, &mut per_span, &family, pacing);
            }
        }
        outbox.settle();
    }
}

/// What a span's documents may do in a [`Family`]: a finished span holds others, and only a
/// span whose one document is a subsegment travels inside another.
fn role(documents: &[Segment<'_>]) -> Role {
    match documents {
        [one] if one.in_progress => Role::Alone,
        [one] if one.document_type == DocumentType::Subsegment => Role::Child,
        [_] => Role::Parent,
        wrapped if embed::is_wrapped(wrapped) => Role::Parent,
        _ => Role::Alone,
    }
}

impl SpanExporter for XrayExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        Counters::add(&self.counters.spans_ended, batch.len() as u64);
        if self.is_shutdown.load(Ordering::Relaxed) {
            self.counters.lose(Loss::AtShutdown, batch.len() as u64);
            self.counters.warn(
                Trouble::Loss(Loss::AtShutdown),
                format_args!("spans handed to the exporter after its shutdown were dropped"),
            );
            return Err(OTelSdkError::AlreadyShutdown);
        }
        // Nothing the export path does may itself produce telemetry (no feedback loop).
        let _suppressed = opentelemetry::Context::enter_telemetry_suppressed_scope();
        self.send_batch(&batch, Pacing::Paced);
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        // Sends are synchronous: nothing is pending once `export` has returned.
        self.is_shutdown.store(true, Ordering::Relaxed);
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = ResourceInfo::new(resource, &self.log_groups);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon_port(builder: XrayExporterBuilder, env: &Environment) -> u16 {
        builder
            .build_in(env)
            .expect("builds")
            .daemon_address()
            .udp()
            .port()
    }

    #[test]
    fn the_daemon_address_comes_from_code_then_the_environment_then_the_default() {
        let env = Environment {
            aws_xray_daemon_address: Some("127.0.0.1:3000".into()),
            ..Environment::default()
        };
        let code = || XrayExporter::builder().with_daemon_address("127.0.0.1:4000");
        assert_eq!(daemon_port(code(), &env), 4000);
        assert_eq!(daemon_port(XrayExporter::builder(), &env), 3000);
        assert_eq!(
            daemon_port(XrayExporter::builder(), &Environment::default()),
            2000
        );
    }

    #[test]
    fn a_bad_address_in_the_environment_is_an_error_naming_the_variable() {
        let env = Environment {
            aws_xray_daemon_address: Some("daemon".into()),
            ..Environment::default()
        };
        let err = XrayExporter::builder().build_in(&env).expect_err("rejected");
        assert_eq!(err.origin(), Some(config::AWS_XRAY_DAEMON_ADDRESS));
        assert_eq!(
            err.to_string(),
            r#"invalid AWS_XRAY_DAEMON_ADDRESS value "daemon": "daemon" has no port (expected host:port)"#
        );
    }
}
