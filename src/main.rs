//! The `insider-audit` binary: a thin shell over the library's command line.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(insider_audit::cli::main())
}
