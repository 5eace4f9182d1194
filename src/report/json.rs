//! `--json FILE`: every entry's statistics, the crossover and the warnings,
//! for scripts. An entry has every column of the summary CSV under the
//! same name (`summary::columns`), its parameters as an object
//! and, where it was not judged, why (`busy`).

use serde_json::{Value, json};

use super::{summary, words};
use crate::analysis::Analysis;
use crate::analysis::answers::Answers;

/// The JSON's `format`: 2 since an entry's keys are the summary CSV's
/// names (`median_ci_low_s` and `median_ci_high_s` where format 1, which
/// had no `format`, had a `median_ci_s` pair).
pub const FORMAT: u32 = 2;

pub fn render(analysis: &Analysis, answers: &Answers) -> String {
    let entries: Vec<Value> = analysis
        .entries
        .iter()
        .map(|entry| {
            let id = &entry.id;
            let mut object: serde_json::Map<String, Value> =
                summary::columns().map(|column| (column.name.to_owned(), column.json(entry))).collect();
            let params: serde_json::Map<String, Value> = id
                .group
                .params
                .iter()
                .map(|(name, value)| (name.clone(), Value::String(value.clone())))
                .collect();
            object.insert("params".to_owned(), Value::Object(params));
            // A number, or null for a policy (`auto:guided`) and for none.
            object.insert("chunk_size".to_owned(), json!(id.chunking.size()));
            object.insert("busy".to_owned(), json!(entry.busy.as_ref().map(super::scaling::busy_json)));
            Value::Object(object)
        })
        .collect();
    let value = json!({
        "format": FORMAT,
        "entries": entries,
        "crossover": words::crossover(analysis),
        "warnings": words::warnings(analysis),
        "scaling": super::scaling::json(answers, analysis.hosts.len()),
    });
    let mut text = serde_json::to_string_pretty(&value).expect("a JSON value serialises");
    text.push('\n');
    text
}
