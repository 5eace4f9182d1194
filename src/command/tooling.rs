//! The commands that fit parbench into editors and shells: `schema`,
//! `completions` and `man`.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Error;
use crate::jobfile;
use crate::vocab::io_reason;

use super::{EXIT_OK, print};

pub fn schema() -> Result<i32, Error> {
    print(&jobfile::schema_json())?;
    Ok(EXIT_OK)
}

pub fn completions(shell: clap_complete::Shell) -> Result<i32, Error> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut visible_command(), "parbench", &mut script);
    print(&String::from_utf8_lossy(&script))?;
    Ok(EXIT_OK)
}

/// The command line less its hidden commands, which clap_complete would
/// otherwise offer (it completes every subcommand, hidden or not).
fn visible_command() -> clap::Command {
    let full = Cli::command();
    clap::Command::new("parbench")
        .version(env!("PARBENCH_VERSION"))
        .propagate_version(true)
        .subcommand_required(true)
        .subcommands(full.get_subcommands().filter(|sub| !sub.is_hide_set()).cloned())
}

/// The tool's page, then one per command (`parbench-run(1)`, ...), hidden
/// commands left out; printed one after another, or written as files.
pub fn man(out_dir: Option<&Path>) -> Result<i32, Error> {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    let mut pages = vec![command.clone()];
    pages.extend(command.get_subcommands().filter(|sub| !sub.is_hide_set()).cloned());
    match out_dir {
        Some(dir) => {
            let refuse = |error: std::io::Error| {
                Error::Usage(format!("cannot write man pages to {}: {}", dir.display(), io_reason(&error)))
            };
            std::fs::create_dir_all(dir).map_err(refuse)?;
            for page in pages {
                let mut roff = Vec::new();
                render(&page, &mut roff)?;
                let file = clap_mangen::Man::new(page).get_filename();
                std::fs::write(dir.join(file), roff).map_err(refuse)?;
            }
        }
        None => {
            let mut roff = Vec::new();
            for page in pages {
                render(&page, &mut roff)?;
            }
            print(&String::from_utf8_lossy(&roff))?;
        }
    }
    Ok(EXIT_OK)
}

/// clap_mangen's sections, except that the text after the options (exit
/// statuses, examples) keeps its lines and columns instead of being filled
/// into paragraphs.
fn render(command: &clap::Command, roff: &mut Vec<u8>) -> Result<(), Error> {
    let man = clap_mangen::Man::new(command.clone());
    let written = (|| {
        man.render_title(roff)?;
        man.render_name_section(roff)?;
        man.render_synopsis_section(roff)?;
        man.render_description_section(roff)?;
        if command.get_arguments().any(|arg| !arg.is_hide_set()) {
            man.render_options_section(roff)?;
        }
        if command.get_subcommands().any(|sub| !sub.is_hide_set()) {
            man.render_subcommands_section(roff)?;
        }
        if let Some(text) = command.get_after_long_help().or(command.get_after_help()) {
            let mut notes = roff::Roff::new();
            notes.control("SH", ["NOTES"]).control("nf", []);
            for line in text.to_string().lines() {
                notes.text([roff::roman(line)]);
            }
            notes.control("fi", []);
            notes.to_writer(roff)?;
        }
        Ok(())
    })();
    written.map_err(Error::Terminal)
}
