//! External programs as workloads. A command is an argv array, never a shell
//! line: `{item}` and `{PARAM}` are replaced inside each argument, so an item
//! such as `$(rm -rf ~); x` reaches the program as those exact bytes.

use std::collections::BTreeMap;

/// How items reach a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// One process per item, the item substituted into its arguments.
    Argv,
    /// One long-lived process per worker, one item per line on stdin and one
    /// result per line on stdout.
    Lines,
}

impl Protocol {
    pub const NAMES: &'static [&'static str] = &["argv", "lines"];

    pub fn parse(name: &str) -> Option<Protocol> {
        match name {
            "argv" => Some(Protocol::Argv),
            "lines" => Some(Protocol::Lines),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Item,
}

/// A command with its parameters already substituted; only `{item}` is left
/// to fill in per item.
#[derive(Debug, Clone)]
pub struct CommandSpec {
    pub program: String,
    args: Vec<Vec<Piece>>,
    pub protocol: Protocol,
    /// `lines` only: the line each worker prints once it can take work.
    pub ready: Option<String>,
}

impl CommandSpec {
    /// `argv[0]` is the program; `params` are substituted now.
    pub fn new(argv: &[String], params: &BTreeMap<String, String>, protocol: Protocol) -> Self {
        let pieces: Vec<Vec<Piece>> = argv.iter().map(|arg| split(arg, params)).collect();
        let program = render(&pieces[0], "");
        CommandSpec { program, args: pieces[1..].to_vec(), protocol, ready: None }
    }

    pub fn with_ready(self, ready: Option<String>) -> Self {
        CommandSpec { ready, ..self }
    }

    /// The arguments after the program, with `item` substituted.
    pub fn args_for(&self, item: &str) -> Vec<String> {
        self.args.iter().map(|pieces| render(pieces, item)).collect()
    }
}

fn render(pieces: &[Piece], item: &str) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Item => out.push_str(item),
        }
    }
    out
}

/// Splits an argument into literal text and `{item}` placeholders, replacing
/// `{NAME}` for every known parameter. Braces around anything else (an awk
/// program, say) are left as they are.
fn split(arg: &str, params: &BTreeMap<String, String>) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}');
        let name = close.map(|close| &after[..close]);
        match name {
            Some("item") => {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Item);
            }
            Some(name) if params.contains_key(name) => text.push_str(&params[name]),
            _ => {
                text.push('{');
                rest = after;
                continue;
            }
        }
        rest = &after[close.unwrap_or(0) + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::format_number;

    fn spec(argv: &[&str], params: &[(&str, &str)]) -> CommandSpec {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        let params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        CommandSpec::new(&argv, &params, Protocol::Argv)
    }

    #[test]
    fn substitutes_item_and_params_inside_arguments() {
        let command = spec(&["echo", "x={item}", "{n}-{item}-{n}", "{other}", "{print $1}"], &[("n", "3")]);
        assert_eq!(command.program, "echo");
        assert_eq!(command.args_for("a b;$(c)"), vec!["x=a b;$(c)", "3-a b;$(c)-3", "{other}", "{print $1}"]);
    }

    #[test]
    fn numbers_print_like_a_person_writes_them() {
        assert_eq!(format_number(42.0), "42");
        assert_eq!(format_number(-3.0), "-3");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(1e20), "100000000000000000000");
    }
}
