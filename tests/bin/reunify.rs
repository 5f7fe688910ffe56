//! The `reunify` binary, built with the tests so they can run it as a process of its own (signals,
//! exit codes): the same command line as `api`'s.

fn main() -> std::process::ExitCode {
    api::cli::main()
}
