//! The `deepcuts` command: a thin wrapper over the library's CLI.

fn main() -> std::process::ExitCode {
    deepcuts::cli::main()
}
