//! Arbitrary batches of spans through a real `XrayExporter` to a loopback socket: no panic,
//! every datagram follows X-Ray's rules, every span is accounted for once.
#![no_main]

#[path = "../../tests/support/fuzz_export.rs"]
mod fuzz_export;
#[path = "../../tests/support/xray_rules.rs"]
mod xray_rules;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_export::export(data));
