//! `DaemonAddress` parsing: no panic, accepted addresses have non-zero ports.
//!
//! Host names are resolved, so this target refuses to run unless its network namespace has no
//! interface but loopback (`unshare -rn`): no name can reach a resolver.
#![no_main]

#[path = "../../tests/support/fuzz_export.rs"]
mod fuzz_export;
#[path = "../../tests/support/xray_rules.rs"]
mod xray_rules;

/// The interfaces of this process's network namespace (/proc/net/dev is per namespace).
fn only_loopback() -> bool {
    let devices = std::fs::read_to_string("/proc/net/dev").unwrap_or_default();
    devices
        .lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .all(|name| name.trim() == "lo")
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    static ISOLATED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    assert!(
        *ISOLATED.get_or_init(only_loopback),
        "run this target inside `unshare -rn`: host names in the input would be resolved"
    );
    fuzz_export::daemon_address(data, true);
});
