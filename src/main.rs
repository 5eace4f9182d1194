use clap::Parser;
use nix::sys::signal::{SigHandler, Signal, signal};

fn main() {
    // A write past a file-size limit must fail with an error parbench can
    // report (and keep the rows before it), not kill the process.
    // SAFETY: nix marks `signal` unsafe for the handlers it may install;
    // "ignore" runs no code of ours, so it is always sound.
    let _ = unsafe { signal(Signal::SIGXFSZ, SigHandler::SigIgn) };
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = parbench::cli::Cli::worker(&args).unwrap_or_else(|| parbench::cli::Cli::parse_from(args));
    let code = match parbench::run(cli) {
        Ok(code) => code,
        Err(error) if error.is_broken_pipe() => 0,
        Err(parbench::error::Error::Reported(code)) => code,
        Err(error) => {
            eprintln!("error: {}", parbench::report::shown(&error.to_string()));
            error.exit_code()
        }
    };
    std::process::exit(code);
}
