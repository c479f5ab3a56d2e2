//! The authenticated envelope: arbitrary bytes never open (or panic), and a
//! sealed body opens exactly once, to itself.
#![no_main]
use cgm_runtime::auth::{Envelope, Key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (bool, Vec<u8>, Vec<u8>)| {
    let (encrypt, mut junk, body) = input;
    let key = Key([7; 32]);
    let mut receiver = Envelope::new(Some(&key), encrypt, 2, 1);
    assert!(receiver.open(&mut junk).is_err(), "arbitrary bytes are refused");
    let mut sender = Envelope::new(Some(&key), encrypt, 1, 1);
    let mut sealed = Vec::new();
    sender.seal(&body, &mut sealed);
    let mut copy = sealed.clone();
    let opened = receiver.open(&mut sealed).expect("a sealed datagram opens");
    assert_eq!((opened.sender, &sealed[opened.body]), (1, &body[..]));
    assert!(receiver.open(&mut copy).is_err(), "a second copy is a replay");
});
