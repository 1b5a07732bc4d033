//! Documents → datagrams on the socket, and the account of what became of each span: the
//! encoder, the pacer, and the refusal the network reports only after the fact.
//!
//! A connected UDP socket learns that a datagram was refused (nothing listening on the port, an
//! unreachable host) only when the network's answer comes back, and says so on the *next* send
//! or when asked. So the last datagram the kernel accepted stays "in flight" until then, and the
//! spans it carries are counted only once its fate is known: sent, refused, or failed.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crate::embed::{self, Family};
use crate::emitter::{Emitter, Sent};
use crate::encode::{Encoded, Encoder, DAEMON_HEADER};
use crate::pacer::Pacer;
use crate::segment::{Segment, MAX_DATAGRAM_BYTES};
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
    /// The spans of the last datagram counted as sent: a refusal the network reports only
    /// after that (a daemon that is not on this host) moves them to refused.
    last_sent: Option<u64>,
}

/// Whether datagrams wait for the [`Pacer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pacing {
    /// Spread bursts for a receiver with the default socket buffer.
    Paced,
    /// As fast as the socket takes them: in Lambda (a handful per invocation, sent before the
    /// response), and while spans end faster than the paced rate for long (the loss then
    /// happens either way).
    Unpaced,
}

/// The last datagram the kernel accepted, until the socket says whether it was refused.
#[derive(Debug)]
struct InFlight {
    /// The spans it completes and their failure so far; `None` when it is not the last
    /// datagram of its span (which is then still being sent).
    completes: Option<(u64, Option<Loss>)>,
}

/// A family's datagram: the daemon header, the parent's document with its children inside,
/// and the spans it carries.
struct Packed {
    datagram: Vec<u8>,
    spans: u64,
}

impl Packed {
    fn json(&self) -> &[u8] {
        &self.datagram[DAEMON_HEADER.len()..]
    }
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
            last_sent: None,
        }
    }

    /// Sends span `root` of a batch (its documents are `documents[root]`), with the spans that
    /// travel inside it, then counts them all.
    pub(crate) fn send(
        &mut self,
        root: usize,
        names: &[&str],
        documents: &mut [&mut [Segment<'_>]],
        family: &Family,
        pacing: Pacing,
    ) {
        if !family.has_children(root) && !embed::is_wrapped(documents[root]) {
            return self.send_span(names[root], documents[root], pacing);
        }
        if let Some(packed) = self.pack(root, names, documents, family, pacing) {
            self.send_packed(&packed, pacing);
        }
    }

    /// Encodes and sends one span's documents, in order (a span with two documents is one
    /// span: it arrives when both do).
    fn send_span(&mut self, name: &str, documents: &mut [Segment<'_>], pacing: Pacing) {
        let mut failure = None;
        let mut last_in_flight = false;
        let count = documents.len();
        for (index, document) in documents.iter_mut().enumerate() {
            let last = index + 1 == count;
            let Some(datagram) = self.encode(name, document) else {
                failure.get_or_insert(Loss::TooLarge);
                continue;
            };
            let length = datagram.len();
            self.pace(length, pacing);
            let completes = last.then_some(1);
            last_in_flight = self.transmit(Datagram::Encoder, completes, &mut failure);
        }
        if !last_in_flight {
            // The span's fate does not wait on a datagram: settle any earlier one of it first.
            self.settle_with(&mut failure);
            self.finish(1, failure);
        }
    }

    /// `documents[node]` (one document) with the families of its children inside, as far as
    /// they fit; children that do not fit are sent on their own. `None` when the node's own
    /// document cannot fit in a datagram (its span is counted lost).
    fn pack(
        &mut self,
        node: usize,
        names: &[&str],
        documents: &mut [&mut [Segment<'_>]],
        family: &Family,
        pacing: Pacing,
    ) -> Option<Packed> {
        let own = self
            .encode(names[node], &mut documents[node][0])
            .map(<[u8]>::to_vec);
        let Some(own) = own else {
            self.finish(1, Some(Loss::TooLarge));
            for child in family.children(node) {
                self.send(child, names, documents, family, pacing);
            }
            return None;
        };
        let mut parent = Packed {
            datagram: own,
            spans: 1,
        };
        let mut nested = 0;
        // Families nest at most `embed::MAX_NESTING` deep, and so does this recursion.
        for child in family.children(node) {
            let Some(child) = self.pack(child, names, documents, family, pacing) else {
                continue;
            };
            if parent.datagram.len() + embed::added_bytes(child.json(), nested) <= MAX_DATAGRAM_BYTES {
                embed::nest(&mut parent.datagram, child.json(), nested);
                parent.spans += child.spans;
                nested += 1;
            } else {
                self.send_packed(&child, pacing);
            }
        }
        if embed::is_wrapped(documents[node]) {
            return self.wrap(node, names, documents, parent, pacing);
        }
        Some(parent)
    }

    /// The span's own packed subsegment `inner` inside the segment around it (its second
    /// document). If the two do not fit together, each goes on its own and the span's fate
    /// follows its segment's datagram.
    fn wrap(
        &mut self,
        node: usize,
        names: &[&str],
        documents: &mut [&mut [Segment<'_>]],
        mut inner: Packed,
        pacing: Pacing,
    ) -> Option<Packed> {
        let outer = self
            .encode(names[node], &mut documents[node][1])
            .map(<[u8]>::to_vec);
        let Some(mut outer) = outer else {
            // The span is counted lost; what travelled inside its subsegment still goes.
            inner.spans -= 1;
            self.finish(1, Some(Loss::TooLarge));
            return Some(inner);
        };
        if outer.len() + embed::added_bytes(inner.json(), 0) <= MAX_DATAGRAM_BYTES {
            embed::nest(&mut outer, inner.json(), 0);
            return Some(Packed {
                datagram: outer,
                spans: inner.spans,
            });
        }
        inner.spans -= 1;
        self.send_packed(&inner, pacing);
        Some(Packed {
            datagram: outer,
            spans: 1,
        })
    }

    /// Sends a family as one datagram.
    fn send_packed(&mut self, packed: &Packed, pacing: Pacing) {
        self.pace(packed.datagram.len(), pacing);
        let mut failure = None;
        if !self.transmit(
            Datagram::Packed(&packed.datagram),
            Some(packed.spans),
            &mut failure,
        ) {
            self.finish(packed.spans, failure);
        }
    }

    /// The datagram for `document`, in the encoder's buffer; `None` (and a warning) when it
    /// cannot be reduced to fit.
    fn encode(&mut self, name: &str, document: &mut Segment<'_>) -> Option<&[u8]> {
        match self.encoder.encode(document) {
            Ok((datagram, encoded)) => {
                if encoded == Encoded::Reduced {
                    Counters::add(&self.counters.documents_reduced, 1);
                }
                Some(datagram)
            }
            Err(_) => {
                self.counters.warn(
                    Trouble::Loss(Loss::TooLarge),
                    format_args!(
                        "span {name:?} was dropped: its document cannot be reduced to fit in one datagram"
                    ),
                );
                None
            }
        }
    }

    fn pace(&mut self, length: usize, pacing: Pacing) {
        if pacing == Pacing::Paced {
            let wait = self.pacer.take(length, Instant::now());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
        }
    }

    /// Sends one datagram that completes `completes` spans (`None`: part of a span still being
    /// sent, whose failure so far is `failure`); true when it is now in flight.
    fn transmit(
        &mut self,
        datagram: Datagram<'_>,
        completes: Option<u64>,
        failure: &mut Option<Loss>,
    ) -> bool {
        let sent = match datagram {
            Datagram::Encoder => self.emitter.send(self.encoder.last()),
            Datagram::Packed(datagram) => self.emitter.send(datagram),
        };
        match sent {
            Sent::Accepted { earlier_refused } => {
                self.resolve(earlier_refused, failure);
                self.in_flight = Some(InFlight {
                    completes: completes.map(|spans| (spans, *failure)),
                });
                completes.is_some()
            }
            Sent::Failed {
                error,
                earlier_refused,
            } => {
                self.resolve(earlier_refused, failure);
                Counters::add(&self.counters.datagrams_send_failed, 1);
                failure.get_or_insert(Loss::SendFailed);
                self.counters.warn(
                    Trouble::Loss(Loss::SendFailed),
                    format_args!("sending to the X-Ray daemon at {} failed: {error}", self.daemon),
                );
                false
            }
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
    /// being sent, which that datagram belongs to unless it completed spans of its own.
    fn resolve(&mut self, refused: bool, current: &mut Option<Loss>) {
        let Some(flight) = self.in_flight.take() else {
            if refused {
                self.refused_after_the_fact();
            }
            return;
        };
        self.last_sent = None;
        if refused {
            Counters::add(&self.counters.datagrams_refused, 1);
            self.say_refused();
        } else {
            Counters::add(&self.counters.datagrams_sent, 1);
        }
        match flight.completes {
            Some((spans, None)) if !refused => {
                self.last_sent = Some(spans);
                self.finish(spans, None);
            }
            Some((spans, failure)) => self.finish(spans, failure.or(refused.then_some(Loss::Refused))),
            None if refused => {
                current.get_or_insert(Loss::Refused);
            }
            None => {}
        }
    }

    /// The network reported a refusal after the last datagram was counted as sent: its spans
    /// (when known) move from sent to refused.
    fn refused_after_the_fact(&mut self) {
        if let Some(spans) = self.last_sent.take() {
            self.counters.spans_sent.fetch_sub(spans, Ordering::Relaxed);
            self.counters.datagrams_sent.fetch_sub(1, Ordering::Relaxed);
            self.counters.lose(Loss::Refused, spans);
            Counters::add(&self.counters.datagrams_refused, 1);
        }
        self.say_refused();
    }

    fn say_refused(&self) {
        self.counters.warn(
            Trouble::Loss(Loss::Refused),
            format_args!(
                "the X-Ray daemon's address {} refused a datagram: is the daemon running there?",
                self.daemon
            ),
        );
    }

    /// Counts `spans` whose every datagram's fate is known.
    fn finish(&self, spans: u64, failure: Option<Loss>) {
        match failure {
            None => Counters::add(&self.counters.spans_sent, spans),
            Some(loss) => {
                self.counters.lose(loss, spans);
            }
        }
    }
}

/// Where a datagram's bytes are.
enum Datagram<'a> {
    /// In the encoder's buffer, just written.
    Encoder,
    /// A family's, packed.
    Packed(&'a [u8]),
}
