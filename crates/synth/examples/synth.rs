//! Generates a synthetic city: `cargo run --release -p datalab-synth --example synth -- OUT [SCALE] [SEED]`.

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "synth-out".into());
    let scale: f64 = args
        .next()
        .map(|s| s.parse().expect("scale"))
        .unwrap_or(1.0);
    let seed: u64 = args.next().map(|s| s.parse().expect("seed")).unwrap_or(42);
    let mut opts = datalab_synth::SynthOptions::new(out);
    opts.scale = scale;
    opts.seed = seed;
    let t = Instant::now();
    let mut rows = 0u64;
    let report = datalab_synth::generate(&opts, &mut |p| match p {
        datalab_synth::SynthProgress::Stage(s) => {
            eprintln!("[{:>7.2}s] {s}", t.elapsed().as_secs_f64())
        }
        datalab_synth::SynthProgress::Rows(n) => rows += n,
    })
    .expect("generation");
    println!(
        "residents {} households {} in {:.2}s",
        report.residents_last_year,
        report.households_last_year,
        t.elapsed().as_secs_f64()
    );
    for (path, rows, bytes) in &report.files {
        println!("{:>10} rows {:>14} bytes  {}", rows, bytes, path.display());
    }
}
