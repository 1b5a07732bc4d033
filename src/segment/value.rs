//! Attribute values as they appear in annotations, metadata and link attributes.

use std::borrow::Cow;

use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

/// A value written as plain JSON. Non-finite floats are written as `null`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AttributeValue<'a> {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// An array of booleans.
    Bools(&'a [bool]),
    /// An array of integers.
    Ints(&'a [i64]),
    /// An array of floats.
    Floats(&'a [f64]),
    /// An array of strings.
    Strs(Vec<&'a str>),
    /// Any JSON (parsed `aws.xray.metadata.*` values).
    Json(serde_json::Value),
}

impl AttributeValue<'_> {
    /// Booleans, numbers and strings: what X-Ray accepts as an annotation value.
    pub(crate) fn is_scalar(&self) -> bool {
        matches!(
            self,
            AttributeValue::Bool(_)
                | AttributeValue::Int(_)
                | AttributeValue::Float(_)
                | AttributeValue::Str(_)
        )
    }
}

impl Serialize for AttributeValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            AttributeValue::Bool(b) => serializer.serialize_bool(*b),
            AttributeValue::Int(i) => serializer.serialize_i64(*i),
            AttributeValue::Float(f) => serializer.serialize_f64(*f),
            AttributeValue::Str(s) => serializer.serialize_str(s),
            AttributeValue::Bools(items) => items.serialize(serializer),
            AttributeValue::Ints(items) => items.serialize(serializer),
            AttributeValue::Floats(items) => items.serialize(serializer),
            AttributeValue::Strs(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            AttributeValue::Json(value) => value.serialize(serializer),
        }
    }
}

/// An ordered key → value map kept as a small vector; written as a JSON object.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Pairs<'a>(pub Vec<(Cow<'a, str>, AttributeValue<'a>)>);

impl<'a> Pairs<'a> {
    /// True when there are no entries.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets `key` to `value`, replacing an earlier entry with the same key (the last one wins).
    pub(crate) fn insert(&mut self, key: Cow<'a, str>, value: AttributeValue<'a>) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.0.push((key, value)),
        }
    }
}

impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}
