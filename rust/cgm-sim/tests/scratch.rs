use cgm_sim::{Sim, SimConfig};
use std::time::{Duration, Instant};

#[test]
fn scratch_big() {
    let n: usize = std::env::var("N").unwrap().parse().unwrap();
    let t = Instant::now();
    let mut sim = Sim::new(SimConfig::new(n, 0));
    for step in 0..200 {
        sim.run_for(Duration::from_millis(100)).unwrap();
        let mut sizes = std::collections::BTreeMap::new();
        for i in sim.ids() { *sizes.entry(sim.core(i).members().len()).or_insert(0) += 1; }
        println!("{:>4} sim {:?} wall {:?} steps {} sent {} sizes {:?} view1 {}", step, Duration::from_micros(sim.now.0), t.elapsed(), sim.steps, sim.net.sent, sizes.iter().rev().take(4).collect::<Vec<_>>(), sim.core(1).view_id());
        if sizes.get(&n) == Some(&n) { break; }
    }
}
