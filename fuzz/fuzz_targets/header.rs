//! `TraceHeader::parse` and `XrayPropagator` on arbitrary header values: no panic, what is
//! written parses back to the same header, extract → inject → extract is stable.
#![no_main]

#[path = "../../tests/support/fuzz_export.rs"]
mod fuzz_export;
#[path = "../../tests/support/xray_rules.rs"]
mod xray_rules;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_export::header(data));
