//! Runs one case of `benches/stages/mod.rs` a given number of times, for instruction counts
//! under valgrind's callgrind (`scripts/bench-callgrind` drives it).
//!
//! `stages_callgrind --list` prints the case ids; `stages_callgrind <case-id> <iterations>`
//! runs that case: one warm-up call, then `<iterations>` calls inside
//! [`callgrind_measured_region`]. Inputs are made before that function is entered and
//! outputs dropped after it returns, so with `--collect-atstart=no
//! --toggle-collect=callgrind_measured_region` callgrind counts only the stage itself (as
//! criterion's `iter_batched` times only the routine). Without arguments (as `cargo bench` or
//! `cargo test --benches` run it) it prints how to use it and exits.

mod stages;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The only code callgrind counts: `n` calls of `f`.
#[no_mangle]
#[inline(never)]
pub fn callgrind_measured_region(n: usize, f: &mut dyn FnMut()) {
    for _ in 0..n {
        f();
    }
}

/// Lists every case id.
struct List;

impl stages::Visitor for List {
    fn case<I, O>(
        &mut self,
        group: &str,
        function: &str,
        size: Option<&str>,
        _bytes: Option<usize>,
        _setup: impl FnMut() -> I,
        _routine: impl FnMut(I) -> O,
    ) {
        println!("{}", stages::case_id(group, function, size));
    }
}

/// Runs the case `target`.
struct Run {
    target: String,
    iterations: usize,
    found: bool,
}

impl stages::Visitor for Run {
    fn wants(&self, group: &str, function: &str, size: Option<&str>) -> bool {
        stages::case_id(group, function, size) == self.target
    }

    fn case<I, O>(
        &mut self,
        group: &str,
        function: &str,
        size: Option<&str>,
        _bytes: Option<usize>,
        mut setup: impl FnMut() -> I,
        mut routine: impl FnMut(I) -> O,
    ) {
        if !self.wants(group, function, size) {
            return;
        }
        self.found = true;
        // First-call costs (lazy statics, allocator pages) stay out of the count.
        drop(routine(setup()));
        let mut inputs: Vec<I> = (0..self.iterations).map(|_| setup()).collect();
        let mut outputs: Vec<O> = Vec::with_capacity(self.iterations);
        callgrind_measured_region(self.iterations, &mut || {
            let input = inputs.pop().expect("an input per iteration");
            outputs.push(routine(input));
        });
        drop(std::hint::black_box(outputs));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [list] if list == "--list" => {
            stages::visit(&stages::Fixtures::new(), &mut List);
        }
        [target, iterations] if !target.starts_with('-') => {
            let iterations = iterations.parse().expect("iterations: a number");
            let mut run = Run {
                target: target.clone(),
                iterations,
                found: false,
            };
            stages::visit(&stages::Fixtures::new(), &mut run);
            if !run.found {
                eprintln!("unknown case `{target}` (see --list)");
                std::process::exit(2);
            }
        }
        _ => {
            println!(
                "stages_callgrind: instruction counts per stage; run scripts/bench-callgrind \
                 (usage: stages_callgrind --list | <case-id> <iterations>)"
            );
        }
    }
}
