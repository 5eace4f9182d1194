//! The pieces of the job files' JSON Schema (draft 07), as `parbench schema`
//! prints it and `docs/jobfile.schema.json` keeps it for editors (taplo reads
//! the `#:schema` line). The serde types in `raw.rs` name these functions
//! and derive the whole (`raw::schema_json`), their doc comments being the
//! descriptions; the functions here say which values validation accepts,
//! from the same names and limits validation uses (`bounds.rs`), so that a
//! file the schema accepts passes every check that does not need the file
//! system or a sum over the whole file. Knows nothing of `raw.rs`.

use schemars::{Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value, json};

use super::bounds::{MAX_LIST_SIZE, MAX_WORKERS};
use crate::generator::Generator;
use crate::vocab::{Pin, PoolStart, Strategy};
use crate::workload::python::START_METHODS;
use crate::workload::{BUILTINS, BuiltinSpec, Protocol};

/// TOML has no null: an optional key is one that may be left out, so
/// `Option<T>` is T here and absent from `required`. A doc comment's line
/// breaks are not the description's: editors show it as one paragraph.
pub fn tidy(schema: &mut Schema) {
    if let Some(Value::String(description)) = schema.get_mut("description") {
        *description = description.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|kind| kind != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            schema.insert("type".to_owned(), only);
        }
    }
}

/// One value, or an array of them: an axis of the matrix.
fn axis(one: Value, unique: bool) -> Value {
    let mut many = json!({ "type": "array", "items": one.clone(), "minItems": 1 });
    if unique {
        many["uniqueItems"] = json!(true);
    }
    json!({ "anyOf": [one, many] })
}

fn with_examples(mut schema: Value, examples: Value) -> Schema {
    schema["examples"] = examples;
    Schema::try_from(schema).expect("an object")
}

fn positive(max: Option<usize>) -> Value {
    let mut number = json!({ "type": "integer", "minimum": 1 });
    if let Some(max) = max {
        number["maximum"] = json!(max);
    }
    number
}

pub fn strategies(_: &mut SchemaGenerator) -> Schema {
    with_examples(axis(json!({ "enum": Strategy::NAMES }), true), json!([["serial", "threads", "processes"]]))
}

pub fn workers(_: &mut SchemaGenerator) -> Schema {
    let one = json!({ "anyOf": [positive(Some(MAX_WORKERS)), { "const": "cpus" }] });
    with_examples(axis(one, true), json!([[1, 2, "cpus"], 4]))
}

pub fn chunk_size(_: &mut SchemaGenerator) -> Schema {
    let one = json!({ "anyOf": [positive(None), { "const": "auto" }] });
    with_examples(axis(one, true), json!(["auto", [1, 64]]))
}

pub fn duration(_: &mut SchemaGenerator) -> Schema {
    // humantime's syntax: numbers with units, "1m 30s" included.
    json_schema!({
        "type": "string",
        "pattern": "^\\s*([0-9]+\\s*[a-zA-Zµ]+\\s*)+$",
        "examples": ["60s", "500ms", "2m"],
    })
}

pub fn repetitions(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "anyOf": [positive(None), { "const": "auto" }], "examples": ["auto", 10] })
}

pub fn precision(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "pattern": "^\\s*[0-9]*\\.?[0-9]+\\s*%\\s*$",
        "examples": ["2%", "0.5%"],
    })
}

pub fn order(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "enum": ["interleaved", "grouped"], "examples": ["interleaved"] })
}

pub fn pin(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "enum": Pin::NAMES, "examples": ["cores"] })
}

pub fn pool_start(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "enum": PoolStart::NAMES, "examples": ["untimed"] })
}

pub fn protocol(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "enum": Protocol::NAMES, "examples": ["lines"] })
}

pub fn python(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "pattern": "^.+:[^:/.]+$",
        "examples": ["python/prices.py:increase_price_crazy"],
    })
}

pub fn interpreter(_: &mut SchemaGenerator) -> Schema {
    with_examples(
        axis(json!({ "type": "string", "minLength": 1 }), true),
        json!(["python3", ["python3.12", "python3.13t"]]),
    )
}

pub fn start_method(_: &mut SchemaGenerator) -> Schema {
    with_examples(axis(json!({ "enum": START_METHODS }), true), json!(["spawn", ["fork", "forkserver"]]))
}

fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().filter(|spec| !spec.hidden).map(|spec| spec.name).collect()
}

pub fn builtin(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "enum": builtin_names(), "examples": ["price-increase"] })
}

/// Any workload's parameters; a builtin's are narrowed in [`workload`].
pub fn params(_: &mut SchemaGenerator) -> Schema {
    let value = json!({ "type": ["number", "string", "boolean"] });
    json_schema!({
        "type": "object",
        "propertyNames": { "minLength": 1, "not": { "const": "item" } },
        "additionalProperties": axis(value, false),
        "examples": [{ "percent": 10 }, { "iterations": [1000, 100000] }],
    })
}

pub fn run_example() -> Value {
    json!({ "strategies": ["serial", "threads", "processes"], "workers": [2], "repetitions": "auto" })
}

/// Exactly one of `builtin` and `command`; `protocol` only with a command;
/// a builtin's own parameters and no others.
pub fn workload(schema: &mut Schema) {
    let mut rules = vec![json!({
        "if": { "required": ["builtin"] },
        "then": { "not": { "required": ["protocol"] } },
    })];
    rules.extend(BUILTINS.iter().filter(|spec| !spec.hidden).map(|spec| {
        json!({
            "if": { "properties": { "builtin": { "const": spec.name } }, "required": ["builtin"] },
            "then": { "properties": { "params": builtin_params(spec) } },
        })
    }));
    rules.push(json!({
        "if": { "required": ["ready"] },
        "then": {
            "properties": { "protocol": {
                "const": "lines",
                "description": "A ready line needs protocol = \"lines\".",
                "examples": ["lines"],
            } },
            "required": ["protocol"],
        },
    }));
    rules.push(json!({
        "if": { "required": ["python"] },
        "then": { "not": { "anyOf": [{ "required": ["protocol"] }, { "required": ["params"] }] } },
    }));
    schema.insert(
        "oneOf".to_owned(),
        json!([{ "required": ["builtin"] }, { "required": ["command"] }, { "required": ["python"] }]),
    );
    schema.insert("allOf".to_owned(), Value::Array(rules));
    schema.insert("examples".to_owned(), workload_examples());
}

pub fn workload_examples() -> Value {
    json!([
        { "name": "increase", "builtin": "price-increase", "params": { "percent": 10 } },
        { "name": "sed", "command": ["sed", "-u", "s/$/ done/"], "protocol": "lines" },
        { "name": "crazy", "python": "python/prices.py:increase_price_crazy", "start_method": "spawn" },
    ])
}

fn builtin_params(spec: &BuiltinSpec) -> Value {
    let properties: Map<String, Value> = spec
        .params
        .iter()
        .map(|param| {
            let mut one = json!({ "type": if param.integer { "integer" } else { "number" } });
            if param.non_negative {
                one["minimum"] = json!(0);
            }
            let mut property = axis(one, false);
            property["description"] = json!(format!("{} (default {})", param.help, param.default));
            property["examples"] = json!([param.default]);
            (param.name.to_owned(), property)
        })
        .collect();
    let defaults: Map<String, Value> =
        spec.params.iter().map(|param| (param.name.to_owned(), json!(param.default))).collect();
    json!({
        "description": format!("The parameters of {}", spec.name),
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
        "examples": [defaults],
    })
}

/// `[list]`: `generator` and that generator's keys, no others.
pub fn list(_: &mut SchemaGenerator) -> Schema {
    let generator = json!({
        "description": format!("How the items are made: {}", Generator::NAMES.join(", ")),
        "enum": Generator::NAMES,
        "examples": ["squares"],
    });
    let mut all_keys = Map::new();
    all_keys.insert("generator".to_owned(), generator.clone());
    let mut rules = Vec::new();
    for name in Generator::NAMES {
        let mut keys = Map::new();
        keys.insert("generator".to_owned(), generator.clone());
        let mut required = Vec::new();
        for (key, default, meaning) in Generator::keys(name) {
            let description = if *default == "required" {
                required.push(*key);
                format!("{meaning} (required)")
            } else {
                format!("{meaning} (default {default})")
            };
            let mut property = list_value(key);
            property["description"] = json!(description);
            all_keys.entry((*key).to_owned()).or_insert_with(|| property.clone());
            keys.insert((*key).to_owned(), property);
        }
        rules.push(json!({
            "if": { "properties": { "generator": { "const": name } }, "required": ["generator"] },
            "then": { "properties": keys, "required": required, "additionalProperties": false },
        }));
    }
    json_schema!({
        "type": "object",
        "properties": all_keys,
        "required": ["generator"],
        "allOf": rules,
        "examples": [{ "generator": "squares", "size": 20, "scale": 42 }],
    })
}

/// A generator key's values and an example, by the key's name.
fn list_value(key: &str) -> Value {
    let (mut schema, example) = match key {
        "size" => (axis(positive(Some(MAX_LIST_SIZE)), false), json!([20, [1000, 100000]])),
        "seed" => (json!({ "type": "integer", "minimum": 0 }), json!([7])),
        "path" => (json!({ "type": "string", "minLength": 1 }), json!(["prices.txt"])),
        "scale" => (json!({ "type": "number" }), json!([42])),
        "high" => (json!({ "type": "number" }), json!([100])),
        "value" => (json!({ "type": "number" }), json!([9.99])),
        _ => (json!({ "type": "number" }), json!([0, 1])),
    };
    schema["examples"] = example;
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optional_key_has_its_own_type_and_a_one_line_description() {
        let mut schema = json_schema!({ "type": ["string", "null"], "description": "two\nlines" });
        tidy(&mut schema);
        assert_eq!(schema.get("type"), Some(&json!("string")));
        assert_eq!(schema.get("description"), Some(&json!("two lines")));
    }
}
