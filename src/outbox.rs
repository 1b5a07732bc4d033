//! A span's documents → datagrams on the socket, and the account of what became of each: the
//! encoder, the pacer, and the refusal the network reports only after the fact.
//!
//! A connected UDP socket learns that a datagram was refused (nothing listening on the port, an
//! unreachable host) only when the network's answer comes back, and says so on the *next* send
//! or when asked. So the last datagram the kernel accepted stays "in flight" until then, and the
//! span it completes is counted only once its fate is known: sent, refused, or failed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::emitter::{Emitter, Sent};
use crate::encode::{Encoded, Encoder};
use crate::pacer::Pacer;
use crate::segment::Segment;
use crate::stats::{Counters, Loss, Trouble};

/// The sending side of one exporter.
#[derive(Debug)]
pub(crate) struct Outbox {
    emitter: Emitter,
    daemon: SocketAddr,
    counters: Arc<Counters>,
    encoder: Encoder,
    pacer: Pacer,
    in_flight: Option<InFlight>,
}

/// Whether datagrams wait for the [`Pacer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pacing {
    /// Spread bursts for a receiver with the default socket buffer.
    Paced,
    /// As fast as the socket takes them: in Lambda (a handful per invocation, sent before the
    /// response), and while the queue overflows (the loss then happens either way).
    Unpaced,
}

/// The last datagram the kernel accepted, until the socket says whether it was refused.
#[derive(Debug)]
struct InFlight {
    /// When it was its span's last datagram: that span's failure so far (`None`: none yet).
    completes: Option<Option<Loss>>,
}

impl Outbox {
    pub(crate) fn new(emitter: Emitter, daemon: SocketAddr, counters: Arc<Counters>) -> Self {
        Outbox {
            emitter,
            daemon,
            counters,
            encoder: Encoder::default(),
            pacer: Pacer::new(Instant::now()),
            in_flight: None,
        }
    }

    /// Encodes and sends one span's documents, in order.
    pub(crate) fn send_span(&mut self, name: &str, documents: &mut [Segment<'_>], pacing: Pacing) {
        let mut failure = None;
        let mut last_in_flight = false;
        let count = documents.len();
        for (index, document) in documents.iter_mut().enumerate() {
            let last = index + 1 == count;
            let datagram = match self.encoder.encode(document) {
                Ok((datagram, encoded)) => {
                    if encoded == Encoded::Reduced {
                        Counters::add(&self.counters.documents_reduced, 1);
                    }
                    datagram
                }
                Err(_) => {
                    failure.get_or_insert(Loss::TooLarge);
                    self.counters.warn(
                        Trouble::Loss(Loss::TooLarge),
                        format_args!("span {name:?} was dropped: its document cannot be reduced to fit in one datagram"),
                    );
                    continue;
                }
            };
            if pacing == Pacing::Paced {
                let wait = self.pacer.take(datagram.len(), Instant::now());
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
            }
            match self.emitter.send(datagram) {
                Sent::Accepted { earlier_refused } => {
                    self.resolve(earlier_refused, &mut failure);
                    self.in_flight = Some(InFlight {
                        completes: last.then_some(failure),
                    });
                    last_in_flight = last;
                }
                Sent::Failed {
                    error,
                    earlier_refused,
                } => {
                    self.resolve(earlier_refused, &mut failure);
                    Counters::add(&self.counters.datagrams_send_failed, 1);
                    failure.get_or_insert(Loss::SendFailed);
                    self.counters.warn(
                        Trouble::Loss(Loss::SendFailed),
                        format_args!("sending to the X-Ray daemon at {} failed: {error}", self.daemon),
                    );
                }
            }
        }
        if !last_in_flight {
            // The span's fate does not wait on a datagram: settle any earlier one of it first.
            self.settle_with(&mut failure);
            self.finish(failure);
        }
    }

    /// Asks the socket about the datagram still in flight, so that every span sent so far is
    /// counted.
    pub(crate) fn settle(&mut self) {
        self.settle_with(&mut None);
    }

    fn settle_with(&mut self, current: &mut Option<Loss>) {
        if self.in_flight.is_some() {
            let refused = self.emitter.last_refused();
            self.resolve(refused, current);
        }
    }

    /// The datagram in flight was (or was not) refused; `current` is the failure of the span
    /// being sent, which that datagram belongs to unless it completed an earlier span.
    fn resolve(&mut self, refused: bool, current: &mut Option<Loss>) {
        let Some(flight) = self.in_flight.take() else {
            return;
        };
        if refused {
            Counters::add(&self.counters.datagrams_refused, 1);
            self.counters.warn(
                Trouble::Loss(Loss::Refused),
                format_args!(
                    "the X-Ray daemon's address {} refused a datagram: is the daemon running there?",
                    self.daemon
                ),
            );
        } else {
            Counters::add(&self.counters.datagrams_sent, 1);
        }
        match flight.completes {
            Some(failure) => self.finish(failure.or(refused.then_some(Loss::Refused))),
            None if refused => {
                current.get_or_insert(Loss::Refused);
            }
            None => {}
        }
    }

    /// Counts a span whose every datagram's fate is known.
    fn finish(&self, failure: Option<Loss>) {
        match failure {
            None => Counters::add(&self.counters.spans_sent, 1),
            Some(loss) => self.counters.lose(loss, 1),
        }
    }
}
