//! Annotations and metadata: what is left of the attributes once the other stages have
//! consumed theirs.

use std::borrow::Cow;

use opentelemetry::{Array, Value};

use super::attributes::{as_str, Attributes, Known};
use super::resource::ResourceInfo;
use super::TranslateConfig;
use crate::segment::{AttributeValue, Metadata, Pairs};

const METADATA_PREFIX: &str = "aws.xray.metadata.";

/// Fills `annotations` and `metadata` from the unconsumed span attributes and, for segments,
/// from the resource.
pub(super) fn annotations_and_metadata<'a>(
    attrs: &Attributes<'a>,
    resource: Option<&'a ResourceInfo>,
    config: &'a TranslateConfig,
    annotations: &mut Pairs<'a>,
    metadata: &mut Metadata<'a>,
) {
    let span_indexed: Vec<&'a str> = match attrs.get(Known::AwsXrayAnnotations) {
        Some(Value::Array(Array::String(keys))) => keys.iter().map(|k| k.as_str()).collect(),
        _ => Vec::new(),
    };
    let indexed = |key: &str| {
        (!config.index_all_attributes && config.indexed_attributes.iter().any(|k| k == key))
            || span_indexed.contains(&key)
    };
    let annotation_key = |key: &'a str| annotation_key(key, config.dots_in_annotation_keys);

    let resource_entries = resource.map_or(&[][..], |r| &r.entries[..]);
    metadata
        .default
        .0
        .reserve(resource_entries.len() + attrs.list.len());
    for (key, value) in resource_entries {
        let value = attribute_value(value);
        if value.is_scalar() && (config.index_all_attributes || indexed(key)) {
            annotations.insert(annotation_key(key), value);
        } else {
            metadata.default.insert(Cow::Borrowed(key), value);
        }
    }

    for (index, kv) in attrs.list.iter().enumerate() {
        if attrs.is_consumed(index) {
            continue;
        }
        let key = kv.key.as_str();
        let value = attribute_value(&kv.value);
        if config.index_all_attributes || indexed(key) {
            if value.is_scalar() {
                annotations.insert(annotation_key(key), value);
            }
            continue;
        }
        match (key.strip_prefix(METADATA_PREFIX), as_str(&kv.value)) {
            (Some(namespace), Some(json)) => insert_namespace(metadata, key, namespace, json),
            _ => metadata.default.insert(Cow::Borrowed(key), value),
        }
    }
}

/// `aws.xray.metadata.<namespace>` holding a JSON object: the object becomes that namespace (or
/// is merged into `default`); anything else is kept as a string under the full key.
fn insert_namespace<'a>(metadata: &mut Metadata<'a>, key: &'a str, namespace: &'a str, json: &'a str) {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(members)) if namespace.eq_ignore_ascii_case("default") => {
            for (member, value) in members {
                metadata
                    .default
                    .insert(Cow::Owned(member), AttributeValue::Json(value));
            }
        }
        // X-Ray documents each namespace as an object: JSON `null` (which the reference writes
        // as a `null` namespace) is kept as the string it was, like any other non-object.
        Ok(value @ serde_json::Value::Object(_)) => {
            if !namespace.eq_ignore_ascii_case("default") {
                match metadata.namespaces.iter_mut().find(|(name, _)| name == namespace) {
                    Some(entry) => entry.1 = value,
                    None => metadata.namespaces.push((Cow::Borrowed(namespace), value)),
                }
            }
        }
        _ => metadata
            .default
            .insert(Cow::Borrowed(key), AttributeValue::Str(Cow::Borrowed(json))),
    }
}

/// An OpenTelemetry attribute value as JSON.
pub(super) fn attribute_value(value: &Value) -> AttributeValue<'_> {
    match value {
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::I64(i) => AttributeValue::Int(*i),
        Value::F64(f) => AttributeValue::Float(*f),
        Value::String(s) => AttributeValue::Str(Cow::Borrowed(s.as_str())),
        Value::Array(Array::Bool(items)) => AttributeValue::Bools(items),
        Value::Array(Array::I64(items)) => AttributeValue::Ints(items),
        Value::Array(Array::F64(items)) => AttributeValue::Floats(items),
        Value::Array(Array::String(items)) => {
            AttributeValue::Strs(items.iter().map(|s| s.as_str()).collect())
        }
        // Value and Array are non-exhaustive: a future kind is kept as its text.
        #[allow(unreachable_patterns)]
        other => AttributeValue::Str(Cow::Owned(other.to_string())),
    }
}

/// An annotation key X-Ray accepts: ASCII letters and digits, `_`, and `.` when allowed; every
/// other character becomes `_`.
fn annotation_key(key: &str, allow_dot: bool) -> Cow<'_, str> {
    let keep = |c: char| c.is_ascii_alphanumeric() || c == '_' || (allow_dot && c == '.');
    if key.bytes().all(|b| keep(char::from(b))) {
        Cow::Borrowed(key)
    } else {
        Cow::Owned(key.chars().map(|c| if keep(c) { c } else { '_' }).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_keys_follow_the_reference() {
        assert_eq!(annotation_key("attr1@1", true), "attr1_1");
        assert_eq!(
            annotation_key("otel.resource.string.key", true),
            "otel.resource.string.key"
        );
        assert_eq!(
            annotation_key("otel.resource.string.key", false),
            "otel_resource_string_key"
        );
        assert_eq!(annotation_key("héllo", true), "h_llo");
    }
}
