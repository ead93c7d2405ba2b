//! The `hookgate` binary: the command line is the library's (`cli`); the allocator is chosen here.

/// mimalloc: every request allocates (its body, the parsed document, the record). It was chosen
/// when payloads were parsed into `serde_json::Value`, measured ~30% faster than the system
/// allocator for a 7.5 KB body (`benches/pipeline.rs`); not re-measured since the parse moved
/// to sonic-rs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    hookgate::cli::main()
}
