//! AWS Lambda: every invocation continues the trace Lambda started, as subsegments of the
//! function's segment, and all its documents are sent before the handler returns.
//!
//! ```no_run
//! use lambda_runtime::tower::Layer;
//! use lambda_runtime::{service_fn, Error, LambdaEvent};
//! use serde_json::Value;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     let xray = xray_bridge::builder().install()?; // Lambda mode: AWS_LAMBDA_FUNCTION_NAME is set
//!     let handler = xray.lambda_layer().layer(service_fn(handle));
//!     lambda_runtime::run(handler).await
//! }
//!
//! async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
//!     Ok(event.payload)
//! }
//! ```
//!
//! The layer wraps the *handler* rather than the `Runtime`: a `Runtime` layer runs around the
//! posting of the response, so its span could only end, and be sent, after Lambda may already
//! have frozen the environment.

use std::any::Any;
use std::fmt::Display;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use lambda_runtime::LambdaEvent;
use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::Status;
use opentelemetry::{Array, StringValue, Value};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::exception::Described;
use crate::{XrayPropagator, TRACE_HEADER};

/// Name of the handler's subsegment (the name AWS Lambda Powertools uses).
const HANDLER_SUBSEGMENT: &str = "## handler";

/// Wraps a `lambda_runtime` handler service; made by [`crate::XrayGuard::lambda_layer`] or
/// [`XrayLambdaLayer::new`].
///
/// Per invocation: the parent is the invocation context's X-Ray trace id (never the
/// `_X_AMZN_TRACE_ID` variable, which the runtime rewrites concurrently); the handler runs in a
/// `## handler` subsegment annotated with `ColdStart` (true on the first invocation only) and
/// `Service`; a handler error becomes fault and cause (typed by the error: its type's name, or
/// for a boxed error the type its `Debug` text names, with its `source()` chain); a panic in the
/// handler becomes fault and a cause typed `panic`, is sent, and goes on unwinding; `Sampled=0`
/// invocations record nothing; and every document is on the socket before the handler's result
/// goes back to the runtime.
#[derive(Clone, Debug)]
pub struct XrayLambdaLayer {
    pipeline: Option<(SdkTracerProvider, Arc<str>)>,
    cold_start: Arc<AtomicBool>,
}

impl XrayLambdaLayer {
    /// The layer for a pipeline built by hand: `provider` exports the handler's spans (flushed
    /// before each invocation returns) and `service_name` is the `Service` annotation.
    ///
    /// In Lambda the exporter and the processor need Lambda mode, and the resource comes from
    /// the Lambda environment (what [`crate::builder()`] does by itself):
    ///
    /// ```no_run
    /// use opentelemetry_sdk::trace::SdkTracerProvider;
    /// use opentelemetry_sdk::Resource;
    /// use xray_bridge::lambda::XrayLambdaLayer;
    /// use xray_bridge::resource::LambdaResourceDetector;
    /// use xray_bridge::{XrayExporter, XrayIdGenerator, XraySpanProcessor};
    ///
    /// let exporter = XrayExporter::builder().with_lambda_mode(true).build()?;
    /// let provider = SdkTracerProvider::builder()
    ///     .with_span_processor(XraySpanProcessor::builder(exporter).with_lambda_mode(true).build()?)
    ///     .with_id_generator(XrayIdGenerator::default())
    ///     .with_resource(
    ///         Resource::builder()
    ///             .with_service_name("orders")
    ///             .with_detector(Box::new(LambdaResourceDetector))
    ///             .build(),
    ///     )
    ///     .build();
    /// let layer = XrayLambdaLayer::new(provider, "orders");
    /// # let _ = layer;
    /// # Ok::<(), xray_bridge::BuildError>(())
    /// ```
    pub fn new(provider: SdkTracerProvider, service_name: impl Into<String>) -> Self {
        Self::with_pipeline(Some((provider, service_name.into().into())))
    }

    fn with_pipeline(pipeline: Option<(SdkTracerProvider, Arc<str>)>) -> Self {
        XrayLambdaLayer {
            pipeline,
            cold_start: Arc::new(AtomicBool::new(true)),
        }
    }
}

#[cfg(feature = "layer")]
impl crate::XrayGuard {
    /// The layer for a `lambda_runtime` handler (feature `lambda`); see [`crate::lambda`]. When
    /// the pipeline is disabled it only calls the handler.
    pub fn lambda_layer(&self) -> XrayLambdaLayer {
        XrayLambdaLayer::with_pipeline(
            self.tracer_provider()
                .map(|provider| (provider.clone(), self.service_name().unwrap_or_default().into())),
        )
    }
}

impl<S> Layer<S> for XrayLambdaLayer {
    type Service = XrayLambda<S>;

    fn layer(&self, inner: S) -> XrayLambda<S> {
        XrayLambda {
            inner,
            layer: self.clone(),
        }
    }
}

/// The handler service made by [`XrayLambdaLayer`].
#[derive(Clone, Debug)]
pub struct XrayLambda<S> {
    inner: S,
    layer: XrayLambdaLayer,
}

/// The invocation's `X-Amzn-Trace-Id`, as a propagation carrier.
struct InvocationHeader<'a>(Option<&'a str>);

impl Extractor for InvocationHeader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.filter(|_| key.eq_ignore_ascii_case(TRACE_HEADER))
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACE_HEADER]
    }
}

impl<S, T> Service<LambdaEvent<T>> for XrayLambda<S>
where
    S: Service<LambdaEvent<T>>,
    S::Error: Display + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = LambdaFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, event: LambdaEvent<T>) -> Self::Future {
        let Some((provider, service)) = &self.layer.pipeline else {
            return LambdaFuture {
                inner: self.inner.call(event),
                span: None,
                provider: None,
            };
        };
        let cold_start = self.layer.cold_start.swap(false, Ordering::Relaxed);
        let span = tracing::info_span!(
            target: "xray_bridge::lambda",
            "## handler",
            faas.invocation_id = %event.context.request_id,
            faas.name = %event.context.env_config.function_name,
        );
        span.set_attribute("ColdStart", cold_start);
        span.set_attribute("Service", service.to_string());
        let indexed = Array::String(vec![StringValue::from("ColdStart"), StringValue::from("Service")]);
        span.set_attribute("aws.xray.annotations", Value::Array(indexed));
        let header = InvocationHeader(event.context.xray_trace_id.as_deref());
        let parent = XrayPropagator::default().extract_with_context(&opentelemetry::Context::new(), &header);
        // Fails only when tracing is off for this span; the invocation runs either way.
        let _ = span.set_parent(parent);
        let inner = match catch_unwind(AssertUnwindSafe(|| span.in_scope(|| self.inner.call(event)))) {
            Ok(inner) => inner,
            Err(payload) => panicked(span, provider, payload),
        };
        LambdaFuture {
            inner,
            span: Some(span),
            provider: Some(provider.clone()),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`XrayLambda`]: runs the handler in its subsegment and sends everything
    /// before handing the result back.
    pub struct LambdaFuture<F> {
        #[pin]
        inner: F,
        span: Option<Span>,
        provider: Option<SdkTracerProvider>,
    }
}

impl<F, R, E> Future for LambdaFuture<F>
where
    F: Future<Output = Result<R, E>>,
    E: Display + 'static,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let polled = {
            let _entered = this.span.as_ref().map(Span::enter);
            let inner = this.inner;
            catch_unwind(AssertUnwindSafe(|| inner.poll(cx)))
        };
        let result = match polled {
            Ok(Poll::Ready(result)) => result,
            Ok(Poll::Pending) => return Poll::Pending,
            Err(payload) => match (this.span.take(), this.provider.take()) {
                (Some(span), Some(provider)) => panicked(span, &provider, payload),
                _ => resume_unwind(payload),
            },
        };
        if let Some(span) = this.span.take() {
            if let Err(error) = &result {
                let described = Described::of_value(error, HANDLER_SUBSEGMENT);
                span.set_status(Status::error(described.message().to_owned()));
                described.record(&span);
            }
            // Closing the span sends its document (Lambda mode exports each span as it ends).
            drop(span);
        }
        if let Some(provider) = this.provider.take() {
            let _ = provider.force_flush();
        }
        Poll::Ready(result)
    }
}

/// A panic in the handler: recorded as the subsegment's cause (type `panic`), sent, then
/// resumed.
fn panicked(span: Span, provider: &SdkTracerProvider, payload: Box<dyn Any + Send>) -> ! {
    let described = Described::of_panic(&*payload);
    span.set_status(Status::error(described.message().to_owned()));
    described.record(&span);
    drop(span);
    let _ = provider.force_flush();
    resume_unwind(payload)
}
