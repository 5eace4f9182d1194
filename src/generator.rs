//! Input lists. Every generator is deterministic: the same job file gives the
//! same list on every machine and every run, which is what makes checksums
//! comparable across strategies, runs and hosts.

use std::sync::Arc;

/// The items of one list: numbers for builtins, text only when a `file`
/// list has a line that is not a number (only commands accept those).
#[derive(Debug, Clone, PartialEq)]
pub enum Items {
    Numbers(Vec<f64>),
    Text(Vec<String>),
    /// A list file whose every line is a number: builtins take the numbers,
    /// commands the lines exactly as written (`007`, `1.50` and
    /// `12345678901234567890` are not what their f64 prints).
    Parsed {
        numbers: Vec<f64>,
        lines: Vec<String>,
    },
}

impl Items {
    pub fn len(&self) -> usize {
        match self {
            Items::Numbers(numbers) => numbers.len(),
            Items::Text(lines) | Items::Parsed { lines, .. } => lines.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Item `index` as a command sees it.
    pub fn text(&self, index: usize) -> String {
        match self {
            Items::Numbers(numbers) => crate::vocab::format_number(numbers[index]),
            Items::Text(lines) | Items::Parsed { lines, .. } => lines[index].clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Generator {
    /// i² × scale: the seed's `generate_list`.
    Squares {
        scale: f64,
    },
    Range {
        start: f64,
        step: f64,
    },
    /// Uniform in [low, high) from a SplitMix64 stream. The algorithm is
    /// written out here, not taken from a crate, so that a seed means the
    /// same list in every version of parbench.
    Random {
        low: f64,
        high: f64,
        seed: u64,
    },
    Constant {
        value: f64,
    },
    /// The lines of a file read when the job was validated.
    File {
        lines: Arc<FileLines>,
    },
}

/// A list file's non-blank lines, as numbers when every line is one.
#[derive(Debug, PartialEq)]
pub struct FileLines {
    pub items: Items,
    /// The first line that is not a number, 1-based with its text, if any.
    pub first_text: Option<(usize, String)>,
}

impl Generator {
    pub const NAMES: &'static [&'static str] = &["squares", "range", "random", "constant", "file"];

    pub fn name(&self) -> &'static str {
        match self {
            Generator::Squares { .. } => "squares",
            Generator::Range { .. } => "range",
            Generator::Random { .. } => "random",
            Generator::Constant { .. } => "constant",
            Generator::File { .. } => "file",
        }
    }

    /// The keys each generator takes besides `generator`, for validation and
    /// `parbench list`: (key, default, meaning).
    pub fn keys(name: &str) -> &'static [(&'static str, &'static str, &'static str)] {
        match name {
            "squares" => &[("size", "required", "number of items"), ("scale", "1", "multiplier")],
            "range" => &[
                ("size", "required", "number of items"),
                ("start", "0", "first item"),
                ("step", "1", "difference between items"),
            ],
            "random" => &[
                ("size", "required", "number of items"),
                ("low", "0", "inclusive lower bound"),
                ("high", "1", "exclusive upper bound"),
                ("seed", "0", "same seed, same list"),
            ],
            "constant" => &[("size", "required", "number of items"), ("value", "required", "the item")],
            "file" => &[
                ("path", "required", "text file, one item per line, relative to the job file"),
                ("size", "all lines", "use the first N lines"),
            ],
            _ => &[],
        }
    }

    /// What decides the items, as text: equal fingerprints, equal lists.
    pub fn fingerprint(&self) -> String {
        match self {
            Generator::File { lines } => {
                // The lines as written: a command sees `007`, not 7.
                let mut hasher = xxhash_rust::xxh3::Xxh3::new();
                for index in 0..lines.items.len() {
                    let line = lines.items.text(index);
                    hasher.update(&(line.len() as u64).to_le_bytes());
                    hasher.update(line.as_bytes());
                }
                let digest = hasher.digest();
                format!("file {digest:016x}")
            }
            other => format!("{other:?}"),
        }
    }

    /// The list of `size` items. For `file`, `size` is at most the line count
    /// (validation guarantees it).
    pub fn generate(&self, size: usize) -> Items {
        match self {
            Generator::Squares { scale } => {
                Items::Numbers((0..size).map(|i| (i as f64) * (i as f64) * scale).collect())
            }
            Generator::Range { start, step } => {
                Items::Numbers((0..size).map(|i| start + (i as f64) * step).collect())
            }
            Generator::Random { low, high, seed } => {
                let mut state = *seed;
                Items::Numbers(
                    (0..size)
                        .map(|_| {
                            let unit =
                                (crate::stats::splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64;
                            low + unit * (high - low)
                        })
                        .collect(),
                )
            }
            Generator::Constant { value } => Items::Numbers(vec![*value; size]),
            Generator::File { lines } => match &lines.items {
                Items::Numbers(numbers) => Items::Numbers(numbers[..size].to_vec()),
                Items::Text(text) => Items::Text(text[..size].to_vec()),
                Items::Parsed { numbers, lines } => {
                    Items::Parsed { numbers: numbers[..size].to_vec(), lines: lines[..size].to_vec() }
                }
            },
        }
    }
}

/// Reads a list file: one item per line, blank lines skipped; numbers when
/// every line parses as one.
pub fn read_lines(text: &str) -> FileLines {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty())
        .collect();
    let first_text = lines
        .iter()
        .find(|(_, line)| line.parse::<f64>().is_err())
        .map(|(number, line)| (*number, (*line).to_owned()));
    let items = match first_text {
        None => Items::Parsed {
            numbers: lines.iter().map(|(_, line)| line.parse().unwrap_or_default()).collect(),
            lines: lines.into_iter().map(|(_, line)| line.to_owned()).collect(),
        },
        Some(_) => Items::Text(lines.into_iter().map(|(_, line)| line.to_owned()).collect()),
    };
    FileLines { items, first_text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(items: Items) -> Vec<f64> {
        match items {
            Items::Numbers(numbers) => numbers,
            Items::Text(_) | Items::Parsed { .. } => panic!("expected numbers"),
        }
    }

    #[test]
    fn squares_is_the_seed_list() {
        assert_eq!(numbers(Generator::Squares { scale: 42.0 }.generate(4)), vec![0.0, 42.0, 168.0, 378.0]);
    }

    #[test]
    fn range_steps_from_start() {
        assert_eq!(numbers(Generator::Range { start: 5.0, step: -2.0 }.generate(3)), vec![5.0, 3.0, 1.0]);
    }

    #[test]
    fn random_is_reproducible_bounded_and_seeded() {
        let generator = Generator::Random { low: 10.0, high: 20.0, seed: 7 };
        let first = numbers(generator.generate(1000));
        assert_eq!(first, numbers(generator.generate(1000)));
        assert!(first.iter().all(|x| (10.0..20.0).contains(x)));
        let mean = first.iter().sum::<f64>() / 1000.0;
        assert!((14.0..16.0).contains(&mean), "mean {mean}");
        let other = numbers(Generator::Random { low: 10.0, high: 20.0, seed: 8 }.generate(1000));
        assert_ne!(first, other);
        // Pinned: the stream is part of the job-file contract.
        let pinned = numbers(Generator::Random { low: 0.0, high: 1.0, seed: 0 }.generate(1));
        assert_eq!(pinned, vec![(0xE220_A839_7B1D_CDAFu64 >> 11) as f64 / (1u64 << 53) as f64]);
    }

    #[test]
    fn constant_repeats_its_value() {
        assert_eq!(numbers(Generator::Constant { value: 2.5 }.generate(3)), vec![2.5; 3]);
    }

    #[test]
    fn file_lines_skip_blanks_and_fall_back_to_text() {
        assert_eq!(
            read_lines("1\n\n 2.5 \n").items,
            Items::Parsed { numbers: vec![1.0, 2.5], lines: vec!["1".into(), "2.5".into()] }
        );
        let mixed = read_lines("1\n\nhello world\n");
        assert_eq!(mixed.items, Items::Text(vec!["1".into(), "hello world".into()]));
        assert_eq!(mixed.first_text, Some((3, "hello world".into())));
        let lines = Arc::new(read_lines("1\n2\n3\n"));
        let Items::Parsed { numbers, .. } = Generator::File { lines }.generate(2) else { panic!("parsed") };
        assert_eq!(numbers, vec![1.0, 2.0]);
    }
}
