//! The response future of the HTTP layers: polls the request inside its span and records the
//! outcome when it completes.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use http_body::Body;
use tracing::Span;

use super::spans;
use crate::exception::Described;

/// Which side of the call the span records.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Side {
    /// A server: an error from the inner service is answered as a 500.
    Server,
    /// A client: an error means no response came.
    Client,
}

pin_project_lite::pin_project! {
    /// A response future inside its span.
    pub struct TracedResponse<F> {
        #[pin]
        inner: F,
        span: Span,
        side: Side,
    }
}

impl<F> TracedResponse<F> {
    pub(crate) fn new(inner: F, span: Span, side: Side) -> Self {
        TracedResponse { inner, span, side }
    }
}

impl<F, R, E> Future for TracedResponse<F>
where
    F: Future<Output = Result<Response<R>, E>>,
    E: Display + 'static,
    R: Body,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let result = std::task::ready!(this.inner.poll(cx));
        match (&result, this.side) {
            (Ok(response), _) => spans::record_response(this.span, response),
            (Err(error), side) => {
                match side {
                    Side::Server => {
                        this.span.record("http.response.status_code", 500);
                    }
                    Side::Client => spans::record_failure(this.span, error),
                }
                let name = this.span.metadata().map_or("HTTP request", |m| m.name());
                Described::of_value(error, name).record(this.span);
            }
        }
        Poll::Ready(result)
    }
}
