//! JSON Schemas of the envelope, generated from the Rust types: one for any
//! event and one per `type` (the common fields, that `type`, and its `data`).

use serde_json::Value;

use crate::{EventData, EventEnvelope};

/// The schema of any event (`oneOf` over the types).
#[must_use]
pub fn envelope() -> Value {
    schemars::schema_for!(EventEnvelope).to_value()
}

/// The schema of an event of `event_type` (e.g. `order.confirmed`), or
/// `None` for an unknown type.
#[must_use]
pub fn for_type(event_type: &str) -> Option<Value> {
    if !EventData::TYPES.contains(&event_type) {
        return None;
    }
    let mut schema = envelope();
    let object = schema.as_object_mut()?;
    let variants = object.remove("oneOf")?;
    let variant = variants
        .as_array()?
        .iter()
        .find(|v| v.pointer("/properties/type/const").and_then(Value::as_str) == Some(event_type))?
        .clone();
    // The variant's `type` and `data`, beside the common fields.
    let properties = object.get_mut("properties")?.as_object_mut()?;
    for (name, value) in variant.get("properties")?.as_object()? {
        properties.insert(name.clone(), value.clone());
    }
    let required = object.get_mut("required")?.as_array_mut()?;
    for name in variant.get("required")?.as_array()? {
        required.push(name.clone());
    }
    object.insert("title".into(), Value::String(event_type.to_owned()));
    Some(schema)
}
