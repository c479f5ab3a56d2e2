use cgm_model::{ChangeModel, Variant};
use stateright::{Checker, Model};
#[test]
fn scratch() {
    let c: u8 = std::env::var("C").unwrap().parse().unwrap();
    let f: u8 = std::env::var("F").unwrap().parse().unwrap();
    let cap: usize = std::env::var("CAP").unwrap_or("20000000".into()).parse().unwrap();
    let m = ChangeModel { variant: Variant::Code, max_crashes: c, max_suspicions: f };
    let t = std::time::Instant::now();
    let ch = m.checker().threads(2).target_state_count(cap).spawn_bfs().join();
    eprintln!("C={c} F={f}: {} unique, {} gen, depth {}, {:?}", ch.unique_state_count(), ch.state_count(), ch.max_depth(), t.elapsed());
    for (k, _) in ch.discoveries() { eprintln!("  found {k}"); }
}
