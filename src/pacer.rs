//! How fast datagrams may leave, so that a receiver with the kernel's default socket buffer (the
//! X-Ray daemon sets none of its own) keeps up: a token bucket over the receive-buffer memory
//! each datagram takes.
//!
//! Linux charges a datagram's whole allocation to the receiver's buffer, not just its payload:
//! the default 212,992 bytes hold 166 datagrams of 540 bytes, 92 of 800, 25 of 4 KB, 12 of
//! 16 KB and 3 of 64 KB (measured). Bursts are kept to about half of that, so a receiver that
//! wakes late still has room, and the sustained rate to what a plain receiver thread took
//! without loss on the development machine.

use std::time::{Duration, Instant};

/// What may arrive back to back after a pause, with the debt [`MIN_WAIT`] lets build up:
/// together about half of Linux's default receive buffer.
const BURST_BYTES: i64 = 80 * 1024;
/// The shortest wait worth a sleep.
const MIN_WAIT: Duration = Duration::from_micros(200);
/// The sustained rate, in receive-buffer bytes per second: about 105,000 datagrams of 540 bytes
/// (58,000 of 1 KB), what a plain receiver thread on the other core took without loss.
const BYTES_PER_SECOND: i64 = 128 * 1024 * 1024;

/// The receive-buffer memory a datagram of `len` bytes takes on Linux: its allocation (payload
/// plus about 320 bytes of headers and shared info, in a power-of-two slab up to 8 KB, in
/// pages beyond) plus the 256-byte buffer head. Fits every measurement above within 2 %.
fn receive_cost(len: usize) -> i64 {
    let needed = u64::try_from(len).unwrap_or(u64::MAX / 4).saturating_add(320);
    let allocated = if needed <= 8192 {
        needed.next_power_of_two()
    } else {
        needed.saturating_add(needed / 16)
    };
    i64::try_from(allocated).unwrap_or(i64::MAX).saturating_add(256)
}

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
        self.tokens = self.tokens.saturating_sub(receive_cost(len));
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

    /// What a 540-byte datagram costs.
    const COST: i64 = 1024 + 256;

    #[test]
    fn the_receive_cost_fits_the_measured_capacities_of_the_default_buffer() {
        for (len, capacity) in [(540, 166), (800, 92), (4096, 25), (16_384, 12), (65_000, 3)] {
            let fits = 212_992 / receive_cost(len);
            assert!(
                (fits - capacity).abs() <= capacity / 50 + 1,
                "{len} B: {fits} against {capacity}"
            );
        }
    }

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
