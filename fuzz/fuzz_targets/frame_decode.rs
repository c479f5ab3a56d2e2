//! The frame decoder on arbitrary bytes: never panics, and whatever decodes
//! re-encodes to bytes that decode to the same frame.
#![no_main]
use cgm_core::wire;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((header, frame)) = wire::decode_frame(data) {
        let mut again = Vec::new();
        wire::encode_frame(&header, &frame, &mut again);
        assert_eq!(wire::decode_frame(&again), Ok((header, frame)), "a re-encoded frame decodes to itself");
    }
    let _ = wire::decode_msg(data);
    let _ = wire::decode_status(data);
});
