//! The `reunify` binary: serve | migrate | schema | token | seed-demo | insight | purge.

fn main() -> std::process::ExitCode {
    api::cli::main()
}
