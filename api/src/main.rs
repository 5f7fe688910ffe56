//! The `reunify` binary: serve | migrate | schema | token | seed-demo | insight | purge.

/// mimalloc rather than the system allocator: a request allocates and frees many small objects
/// across threads, where glibc's malloc spent a fifth of the server's CPU (bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    api::cli::main()
}
