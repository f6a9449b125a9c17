//! `hrm bench`: printed CPU figures (never timed tests).
//! - `--gemm`: GFLOP/s of the GEMM crates on the model's shapes (`bench/gemm.rs`).
//! - `--puzzles`: Sudoku solver/generator per band, maze generation and 30x30 BFS (`bench_puzzles.rs`).
//! - `--preset sudoku-small|maze-small`: ms per training step and per eval segment, and peak memory
//!   (`bench/preset.rs`), with the host's FMA peak before and after (`bench/host.rs`); with `--ops`,
//!   the time of each backend op in them (`bench/ops.rs`).
//! - `--backend gpu`: matmul GFLOP/s at the presets' shapes, train steps/s and eval segments/s at both
//!   presets (or `--preset`), peak pooled bytes (`bench_gpu.rs`).

mod gemm;
mod host;
mod ops;
pub(crate) mod preset;

use anyhow::{bail, Context};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Compare GEMM crates on the model's matrix shapes (build with `--features gemm-bench` to include
    /// matrixmultiply and faer next to gemm).
    #[arg(long)]
    pub gemm: bool,
    /// Puzzle layer: Sudoku solver and generator per band, maze generation and BFS on 30x30.
    #[arg(long)]
    pub puzzles: bool,
    /// `gpu`: WGSL matmul GFLOP/s at the presets' shapes, train steps/s, eval segments/s and peak
    /// buffer bytes at both presets (or only `--preset`); counts from --train-steps/--eval-segments.
    #[arg(long, value_parser = ["cpu", "gpu"], default_value = "cpu")]
    pub backend: String,
    /// Time training steps and eval segments of a model preset: sudoku-small | maze-small
    #[arg(long)]
    pub preset: Option<preset::Preset>,
    /// With --preset: time every backend op of a training step and an eval segment and print each
    /// op's ms and share (where the time goes)
    #[arg(long)]
    pub ops: bool,
    /// Timed training steps for --preset (after 2 warm-up steps)
    #[arg(long, default_value_t = 10)]
    pub train_steps: usize,
    /// Timed eval segments for --preset (after 2 warm-up segments)
    #[arg(long, default_value_t = 16)]
    pub eval_segments: usize,
    /// Threads (GEMM crates, model); without it `--gemm` runs itself once with 1 and once with 2, and
    /// `--preset` uses 2 (the official figures were measured with 2).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Timed repetitions per measurement (the median is printed).
    #[arg(long, default_value_t = 15)]
    pub reps: usize,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.reps == 0 {
        bail!("--reps must be at least 1");
    }
    if args.gemm {
        return gemm_command(&args);
    }
    if args.puzzles {
        return crate::bench_puzzles::run();
    }
    if args.backend == "gpu" {
        return crate::bench_gpu::run(&args);
    }
    if let Some(p) = args.preset {
        set_threads(args.threads.unwrap_or(2))?;
        if args.ops {
            return ops::run(p, args.train_steps, args.eval_segments);
        }
        return preset::run(p, args.threads.unwrap_or(2), args.train_steps, args.eval_segments);
    }
    bail!("nothing to benchmark: pass --gemm, --puzzles, --preset sudoku-small|maze-small or --backend gpu")
}

/// Sets the thread count for every pool the benchmarks can touch. Must run before the first GEMM call.
fn set_threads(threads: usize) -> anyhow::Result<()> {
    if threads == 0 {
        bail!("--threads must be at least 1");
    }
    // matrixmultiply reads this once, at its first threaded call.
    std::env::set_var("MATMUL_NUM_THREADS", threads.to_string());
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().context("building the rayon pool")?;
    Ok(())
}

fn gemm_command(args: &Args) -> anyhow::Result<()> {
    let Some(threads) = args.threads else {
        // One process per thread count, because matrixmultiply fixes its thread count per process.
        let exe = std::env::current_exe().context("finding the hrm executable")?;
        for t in [1, 2] {
            let status = std::process::Command::new(&exe)
                .args(["bench", "--gemm", "--threads", &t.to_string(), "--reps", &args.reps.to_string()])
                .status()
                .context("running the GEMM benchmark")?;
            if !status.success() {
                bail!("GEMM benchmark with {t} thread(s) failed: {status}");
            }
        }
        return Ok(());
    };
    set_threads(threads)?;
    let libs: Vec<&str> = gemm::candidates().iter().map(|c| c.0).collect();
    println!("GEMM, f32 row-major, {threads} thread(s), median of {} calls; GFLOP/s = 2MNK / time", args.reps);
    if !cfg!(feature = "gemm-bench") {
        println!("(only gemm compiled in: rebuild with `--features gemm-bench` for matrixmultiply and faer)");
    }
    let rows = gemm::run(threads, args.reps);
    print!("{:<13} {:<8} {:<9} {:>5} {:>5} {:>5}", "tokens", "layer", "layout", "M", "N", "K");
    for lib in &libs {
        print!(" {lib:>19}");
    }
    println!();
    for chunk in rows.chunks(libs.len()) {
        let r = &chunk[0];
        print!("{:<13} {:<8} {:<9} {:>5} {:>5} {:>5}", r.tokens, r.layer, r.layout.name(), r.m, r.n, r.k);
        for x in chunk {
            print!(" {:>8.1} ({:>6.2}ms)", x.gflops, x.median_ms);
        }
        println!();
    }
    // The whole model's GEMM time is what matters: sum the medians per crate.
    for lib in &libs {
        let mine: Vec<&gemm::Row> = rows.iter().filter(|r| r.lib == *lib).collect();
        let ms: f64 = mine.iter().map(|r| r.median_ms).sum();
        let flop: f64 = mine.iter().map(|r| 2.0 * (r.m * r.n * r.k) as f64).sum();
        let mut g: Vec<f64> = mine.iter().map(|r| r.gflops).collect();
        g.sort_by(f64::total_cmp);
        println!(
            "{lib:<19} {threads} thread(s): all {} products {ms:.1} ms = {:.1} GFLOP/s overall, median shape {:.1} GFLOP/s",
            mine.len(),
            flop / (ms / 1e3) / 1e9,
            g[g.len() / 2]
        );
    }
    Ok(())
}
