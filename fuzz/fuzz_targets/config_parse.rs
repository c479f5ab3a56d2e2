//! The TOML configuration parser on arbitrary text: never panics; every error
//! names a field or a line.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(e) = cgm_runtime::NodeConfig::parse(text, None) {
        assert!(!e.message.is_empty(), "an error says what is wrong");
    }
});
