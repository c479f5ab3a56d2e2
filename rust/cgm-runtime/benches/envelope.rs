//! What the authenticated wire costs per datagram: sealing a body as a
//! member sends it and opening it as its peer receives it
//! (XChaCha20-Poly1305 under the cluster key). `cargo bench -p cgm-runtime
//! --bench envelope`.

use cgm_runtime::auth::Envelope;
use cgm_runtime::Key;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn envelope(c: &mut Criterion) {
    let key = Key::generate();
    for (encrypt, what) in [(true, "encrypted"), (false, "signed")] {
        let mut tx = Envelope::new(Some(&key), encrypt, 1, 7);
        let mut rx = Envelope::new(Some(&key), encrypt, 2, 9);
        for len in [100usize, 1_400] {
            let body = vec![5u8; len];
            let mut out = Vec::new();
            c.bench_function(&format!("envelope: seal and open a {len}-byte body, {what}"), |b| {
                b.iter(|| {
                    tx.seal(black_box(&body), &mut out);
                    rx.open(&mut out).expect("sealed under the shared key").sender
                })
            });
        }
    }
}

criterion_group!(benches, envelope);
criterion_main!(benches);
