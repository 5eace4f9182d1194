//! Everything parbench shows or writes about results. Exporters are pure
//! (records in, bytes out); the reporters that touch files or the terminal
//! are thin wrappers around them.

pub mod compare;
pub mod conditions;
pub mod csv;
pub mod env;
pub mod html;
pub mod json;
pub mod log;
pub mod markdown;
pub mod progress;
pub mod runs_chart;
pub mod scaling;
pub mod summary;
pub mod table;
pub mod words;

pub use crate::results::{cell_time, parse_cell_time, seconds, text_cell, unguard_cell};

/// Bytes as people read them: binary units, three significant digits.
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut scaled = bytes;
    let mut unit = 0;
    while scaled >= 1024.0 && unit < UNITS.len() - 1 {
        scaled /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{scaled:.0} B")
    } else if scaled >= 100.0 {
        format!("{scaled:.0} {}", UNITS[unit])
    } else if scaled >= 10.0 {
        format!("{scaled:.1} {}", UNITS[unit])
    } else {
        format!("{scaled:.2} {}", UNITS[unit])
    }
}

/// A ratio for a spreadsheet: `digits` significant digits as a plain
/// decimal, never `4.76e-4`, so that a speedup of 0.000476 is not written
/// 0.0005.
pub fn significant(value: f64, digits: usize) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value:.1}");
    }
    let magnitude = value.abs().log10().floor() as i64;
    let decimals = (digits as i64 - 1 - magnitude).clamp(0, 17) as usize;
    format!("{value:.decimals$}")
}

/// RFC 3339 in UTC with microseconds; in `vocab` so that `lock` writes it too.
pub use crate::vocab::timestamp;

/// Text for a terminal, a Markdown or HTML page or an SVG: control
/// characters from a name or a command's stderr are shown escaped (`\e` for
/// ESC, `\x07`, `\u{202e}`), never sent raw, where they would move the
/// cursor, clear the screen, retitle the window, reorder what is read, or
/// make XML invalid. Newlines and tabs stay.
pub fn shown(text: &str) -> String {
    let hidden = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(|c| c != '\n' && c != '\t' && hidden(c)) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' | '\t' => out.push(c),
            '\u{1b}' => out.push_str("\\e"),
            c if hidden(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if hidden(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Times for people: `2.21 µs`, `16.0 ms`, `4.10 s`.
pub fn human_seconds(value: f64) -> String {
    let (scaled, unit) = if value < 1e-6 {
        (value * 1e9, "ns")
    } else if value < 1e-3 {
        (value * 1e6, "µs")
    } else if value < 1.0 {
        (value * 1e3, "ms")
    } else {
        (value, "s")
    };
    if scaled >= 100.0 {
        format!("{scaled:.0} {unit}")
    } else if scaled >= 10.0 {
        format!("{scaled:.1} {unit}")
    } else {
        format!("{scaled:.2} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    #[test]
    fn cell_times_are_utc_without_t_or_z_and_old_ones_still_read() {
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(1_795_681_597_114_213);
        assert_eq!(cell_time(time), "2026-11-26 08:26:37.114");
        assert_eq!(
            parse_cell_time("2026-11-26 08:26:37.114"),
            Some(time - std::time::Duration::from_micros(213))
        );
        assert_eq!(parse_cell_time("2026-11-26T08:26:37.114213Z"), Some(time));
        assert_eq!(parse_cell_time("yesterday"), None);
    }

    #[test]
    fn ratios_keep_six_significant_digits_without_exponents() {
        assert_eq!(significant(0.000476190, 6), "0.000476190");
        assert_eq!(significant(0.0000133, 6), "0.0000133000");
        assert_eq!(significant(1.0, 6), "1.00000");
        assert_eq!(significant(1.91234567, 6), "1.91235");
        assert_eq!(significant(1234.5, 6), "1234.50");
        assert_eq!(significant(0.0, 6), "0.0");
    }

    #[test]
    fn seconds_never_use_exponents() {
        assert_eq!(seconds(0.000022), "0.000022000");
        assert_eq!(seconds(4.1), "4.100000000");
        assert!(!seconds(1e-12).contains('e'));
    }

    #[test]
    fn formula_cells_become_text() {
        for bad in ["=1+1", "+x", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(text_cell(bad), format!("'{bad}"));
        }
        assert_eq!(text_cell("plain"), "plain");
        assert_eq!(shown("a\u{1b}[2Jb\x07\n\tc\u{202e}"), "a\\e[2Jb\\x07\n\tc\\u{202e}");
        for text in ["-neg", "'quoted", "''", "plain", "'", "=1"] {
            assert_eq!(unguard_cell(&text_cell(text)), text, "{text} round-trips");
        }
        assert_eq!(text_cell(""), "");
    }

    #[test]
    fn human_bytes_pick_a_binary_unit() {
        assert_eq!(human_bytes(512.0), "512 B");
        assert_eq!(human_bytes(1536.0), "1.50 KiB");
        assert_eq!(human_bytes(25.0 * 1024.0 * 1024.0), "25.0 MiB");
        assert_eq!(human_bytes(300.0 * 1024.0 * 1024.0), "300 MiB");
        assert_eq!(human_bytes(3.0 * 1024.0 * 1024.0 * 1024.0), "3.00 GiB");
    }

    #[test]
    fn human_seconds_pick_a_unit() {
        assert_eq!(human_seconds(0.000022), "22.0 µs");
        assert_eq!(human_seconds(0.0016), "1.60 ms");
        assert_eq!(human_seconds(4.1), "4.10 s");
        assert_eq!(human_seconds(0.0000000005), "0.50 ns");
        assert_eq!(human_seconds(123.0), "123 s");
    }
}
