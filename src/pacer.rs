//! How fast datagrams may leave, so that a receiver with the kernel's default socket buffer (the
//! X-Ray daemon sets none of its own) keeps up: a token bucket over the receive-buffer memory
//! each datagram takes.
//!
//! Linux charges a datagram's payload plus its bookkeeping to the receiver's buffer: the default
//! 212,992 bytes hold about 166 datagrams of 540 bytes. Bursts are kept to under half of that,
//! so a receiver that wakes late still has room; the sustained rate is above what one sender
//! thread reaches with small documents, so pacing smooths bursts without lowering throughput.

use std::time::{Duration, Instant};

/// Receive-buffer memory a datagram takes beyond its payload (estimated from the 166 × 540 B
/// that fill the default buffer).
const OVERHEAD_BYTES: i64 = 768;
/// What may arrive back to back after a pause, with the debt [`MIN_WAIT`] lets build up:
/// together about half of Linux's default receive buffer.
const BURST_BYTES: i64 = 64 * 1024;
/// The shortest wait worth a sleep.
const MIN_WAIT: Duration = Duration::from_micros(200);
/// The sustained rate, in receive-buffer bytes per second: about 100,000 datagrams of 540 bytes,
/// what a plain receiver thread on the other core took without loss on the development machine.
const BYTES_PER_SECOND: i64 = 128 * 1024 * 1024;

/// The token bucket. Starts full.
#[derive(Debug)]
pub(crate) struct Pacer {
    /// Bytes that may still leave now; negative while a wait is owed.
    tokens: i64,
    refilled_at: Instant,
}

impl Pacer {
    pub(crate) fn new(now: Instant) -> Self {
        Pacer {
            tokens: BURST_BYTES,
            refilled_at: now,
        }
    }

    /// Takes a datagram of `len` bytes from the budget and says how long to wait before
    /// sending it (zero: send now).
    pub(crate) fn take(&mut self, len: usize, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.refilled_at);
        let refill =
            i64::try_from(elapsed.as_nanos().saturating_mul(BYTES_PER_SECOND as u128) / 1_000_000_000)
                .unwrap_or(i64::MAX);
        self.tokens = self.tokens.saturating_add(refill).min(BURST_BYTES);
        self.refilled_at = now;
        let cost = i64::try_from(len)
            .unwrap_or(i64::MAX)
            .saturating_add(OVERHEAD_BYTES);
        self.tokens = self.tokens.saturating_sub(cost);
        if self.tokens >= 0 {
            return Duration::ZERO;
        }
        let owed = self.tokens.unsigned_abs();
        let wait = Duration::from_nanos(owed.saturating_mul(1_000_000_000) / BYTES_PER_SECOND as u64);
        // A short debt is carried rather than slept off: a sleep costs a context switch and
        // lasts at least ~60 µs anyway.
        if wait < MIN_WAIT {
            Duration::ZERO
        } else {
            wait
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COST: i64 = 540 + OVERHEAD_BYTES;

    /// Datagrams of 540 bytes that leave without a wait from `now` on.
    fn at_once(pacer: &mut Pacer, now: Instant) -> i64 {
        (0..100_000)
            .take_while(|_| pacer.take(540, now).is_zero())
            .count() as i64
    }

    #[test]
    fn a_burst_leaves_at_once_then_a_wait_worth_a_sleep() {
        let start = Instant::now();
        let mut pacer = Pacer::new(start);
        let carried = MIN_WAIT.as_nanos() as i64 * BYTES_PER_SECOND / 1_000_000_000;
        let burst = at_once(&mut pacer, start);
        assert!(
            (burst - (BURST_BYTES + carried) / COST).abs() <= 1,
            "a burst of {burst} datagrams"
        );
        assert!(burst * COST < 212_992 / 2 + COST, "under half the default buffer");
    }

    #[test]
    fn sleeping_the_waits_holds_the_rate() {
        let start = Instant::now();
        let mut pacer = Pacer::new(start);
        let mut now = start;
        let datagrams = 1_000_000;
        for _ in 0..datagrams {
            now += pacer.take(540, now);
        }
        let rate = datagrams as f64 * COST as f64 / (now - start).as_secs_f64();
        let target = BYTES_PER_SECOND as f64;
        assert!(
            (rate / target - 1.0).abs() < 0.01,
            "{rate} bytes/s against {target}"
        );
    }

    #[test]
    fn an_idle_pacer_refills_to_one_burst_only() {
        let start = Instant::now();
        let mut pacer = Pacer::new(start);
        let first = at_once(&mut pacer, start);
        let _ = pacer.take(540, start);
        let later = start + Duration::from_secs(3600);
        assert!((at_once(&mut pacer, later) - first).abs() <= 1);
    }

    #[test]
    fn huge_lengths_and_clock_jumps_do_not_overflow() {
        let start = Instant::now();
        let mut pacer = Pacer::new(start + Duration::from_secs(5));
        assert_eq!(pacer.take(1, start), Duration::ZERO);
        assert!(pacer.take(usize::MAX, start) > Duration::from_secs(1));
        assert!(pacer.take(usize::MAX, start + Duration::from_secs(u32::MAX.into())) > Duration::ZERO);
    }
}
