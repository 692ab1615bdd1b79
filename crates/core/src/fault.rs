//! Faults injected by the end-to-end tests, to show what a failure does. `SCRUTINY_FAULT` holds
//! comma-separated faults: `panic:<point>` panics at a named point (`extract:ssd_person`, say);
//! `stall:<point>` says so on stderr and waits there forever, so a test can kill the process
//! at exactly that moment. Unset in real runs, where a point costs one environment lookup.

/// Acts on the faults the environment asks for at `point`.
pub fn point(point: &str) {
    let Ok(spec) = std::env::var("SCRUTINY_FAULT") else { return };
    for fault in spec.split(',') {
        if fault.strip_prefix("panic:") == Some(point) {
            panic!("fault injected at {point} (SCRUTINY_FAULT)");
        }
        if fault.strip_prefix("stall:") == Some(point) {
            eprintln!("scrutiny: stalled at {point} (SCRUTINY_FAULT)");
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
    }
}
