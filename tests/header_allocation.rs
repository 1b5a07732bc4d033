//! Parsing a typical `X-Amzn-Trace-Id` allocates nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use xray_bridge::TraceHeader;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn parsing_a_typical_header_does_not_allocate() {
    let typical = [
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "Root=1-5759e988-bd862e3fe1be46a994272793; Parent=53995c3f42cd8ad8; Sampled=?",
        "Self=1-67891234-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678",
    ];
    for header in typical {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let parsed = std::hint::black_box(TraceHeader::parse(std::hint::black_box(header)));
        let after = ALLOCATIONS.load(Ordering::Relaxed);
        assert!(parsed.is_some());
        assert_eq!(after - before, 0, "{header}");
        drop(parsed);
    }
}
