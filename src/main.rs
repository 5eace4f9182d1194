use clap::Parser;

fn main() {
    let cli = parbench::cli::Cli::parse();
    let code = match parbench::run(cli) {
        Ok(code) => code,
        Err(error) if error.is_broken_pipe() => 0,
        Err(error) => {
            eprintln!("error: {error}");
            error.exit_code()
        }
    };
    std::process::exit(code);
}
