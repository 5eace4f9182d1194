//! `parbench list`: the builtins, generators and strategies there are.

use crate::vocab::{Strategy, format_number};
use crate::{generator, workload};

/// What `parbench list` prints.
pub fn list_text() -> String {
    let mut text = String::from("Builtin workloads (builtin = \"NAME\", params = { ... }):\n");
    for spec in workload::BUILTINS.iter().filter(|spec| !spec.hidden) {
        text.push_str(&format!("\n  {}\n    {}\n    cost: {}\n", spec.name, spec.summary, spec.cost));
        for param in spec.params {
            text.push_str(&format!(
                "    param {} (default {}{}): {}\n",
                param.name,
                format_number(param.default),
                if param.integer { ", whole number" } else { "" },
                param.help
            ));
        }
    }
    text.push_str("\nList generators ([list] generator = \"NAME\"):\n");
    for name in generator::Generator::NAMES {
        let keys: Vec<String> = generator::Generator::keys(name)
            .iter()
            .map(|(key, default, meaning)| format!("{key} ({default}): {meaning}"))
            .collect();
        text.push_str(&format!("\n  {name}\n    {}\n", keys.join("\n    ")));
    }
    text.push_str("\nStrategies ([run] strategies = [...]):\n\n");
    for name in Strategy::NAMES {
        let strategy = Strategy::parse(name).expect("listed names parse");
        text.push_str(&format!("  {:<10} {}\n", name, strategy.describe()));
    }
    text.push_str(
        "\nCommand workloads: command = [\"prog\", \"arg\", \"{item}\"], protocol = \"argv\" (one process per item)\n\
         or \"lines\" (one long-lived process per worker, one item per line on stdin, one result per line on stdout).\n",
    );
    text
}
