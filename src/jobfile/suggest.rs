//! Friendlier words for mistakes: did-you-mean, and toml's serde messages
//! rewritten in the job file's own terms.

/// The closest candidate to `given`, if one is close enough to be a typo.
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let score = strsim::jaro_winkler(&given.to_lowercase(), candidate);
        if score > 0.8 && best.is_none_or(|(top, _)| score > top) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// `"x"; expected one of a, b, c; did you mean "b"?`
pub fn choices(given: &str, candidates: &[&str]) -> String {
    let mut text = format!("expected one of {}", candidates.join(", "));
    if let Some(close) = did_you_mean(given, candidates.iter().copied()) {
        text.push_str(&format!("; did you mean \"{close}\"?"));
    }
    text
}

/// toml reports serde's messages ("unknown field `x`, expected one of `a`,
/// `b`"); job-file authors think in keys.
pub fn rewrite_toml_message(message: &str, key: Option<&str>) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (name, tail) = rest.split_once('`').unwrap_or((rest, ""));
        let expected: Vec<&str> = tail.split('`').skip(1).step_by(2).collect();
        if expected.is_empty() {
            return format!("unknown key \"{name}\"; this table takes no keys");
        }
        return format!("unknown key \"{name}\"; {}", choices(name, &expected));
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        let hint = match name {
            "version" => " (write `version = 1` at the top)",
            "list" => " (a [list] table with a generator)",
            "run" => " (a [run] table with strategies)",
            _ => "",
        };
        return format!("missing required key \"{name}\"{hint}");
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let rest = rest
            .replace("i64", "an integer")
            .replace("a sequence", "an array")
            .replace("sequence", "an array")
            .replace("map,", "a table,")
            .replace("expected a map", "expected a table")
            .replace("string \"", "the string \"");
        // serde writes `integer `3``: the value without the backticks reads better.
        let rest = rest.replacen("integer `", "the integer ", 1).replacen("float `", "the float ", 1);
        let rest = match rest.find("`, ") {
            Some(tick) if !rest.contains('"') => format!("{}{}", &rest[..tick], &rest[tick + 1..]),
            _ => rest,
        };
        return match key.filter(|key| is_bare_key(key)) {
            Some(key) => format!("wrong type for \"{key}\": {rest}"),
            None => format!("wrong type: {rest}"),
        };
    }
    // toml's own syntax messages are already written for people.
    let first = message.lines().next().unwrap_or(message);
    format!("not valid TOML: {first}")
}

fn is_bare_key(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let strategies = ["serial", "threads", "processes"];
        assert_eq!(did_you_mean("thread", strategies), Some("threads"));
        assert_eq!(did_you_mean("proceses", strategies), Some("processes"));
        assert_eq!(did_you_mean("Serial", strategies), Some("serial"));
        assert_eq!(did_you_mean("gpu", strategies), None);
    }

    #[test]
    fn rewrites_unknown_and_missing_fields() {
        assert_eq!(
            rewrite_toml_message("unknown field `strategy`, expected one of `strategies`, `workers`", None),
            "unknown key \"strategy\"; expected one of strategies, workers; did you mean \"strategies\"?"
        );
        assert_eq!(
            rewrite_toml_message("missing field `run`", None),
            "missing required key \"run\" (a [run] table with strategies)"
        );
    }
}
