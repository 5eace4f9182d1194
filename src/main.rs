use clap::Parser;

fn main() {
    // A write past a file-size limit must fail with an error parbench can
    // report (and keep the rows before it), not kill the process.
    // SAFETY: setting a signal's disposition to "ignore" is always sound.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
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
