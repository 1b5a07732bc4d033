//! X-Ray's documented rules for segment documents and daemon datagrams, checked strictly.
//!
//! Each rule below cites what AWS documents (the segment document schema and the limits the
//! service enforces, summarised in the project's translation reference §1.1–1.2), not what this
//! crate happens to write: a document that breaks one of them is rejected, or silently loses
//! data, at the service. Unknown fields are rejected too, so that a typo or a field X-Ray does
//! not know is caught rather than ignored.
//!
//! Used by the tests (`support::xray_rules`) and by the fuzz targets (`#[path]`), so it depends
//! on `serde_json` and `regex` only.
#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// The daemon header every datagram starts with, then a newline (daemon protocol).
pub const DATAGRAM_HEADER: &[u8] = b"{\"format\":\"json\",\"version\":1}\n";
/// The largest datagram this crate may send, header included (64 kB document limit; the crate
/// promises 64,000 bytes).
pub const MAX_DATAGRAM_BYTES: usize = 64_000;
/// Names: at most 200 characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Annotation keys: at most 500 characters.
pub const MAX_ANNOTATION_KEY_CHARS: usize = 500;
/// String annotation values: at most 1000 Unicode characters.
pub const MAX_ANNOTATION_VALUE_CHARS: usize = 1000;
/// At most 50 annotations (per trace; checked per document, the most one document can know).
pub const MAX_ANNOTATIONS: usize = 50;

/// Checks one datagram as the daemon receives it: the header `{"format":"json","version":1}`
/// and a newline, at most 64,000 bytes in all, then one document of valid UTF-8 JSON that
/// passes [`check`].
pub fn check_datagram(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() > MAX_DATAGRAM_BYTES {
        return Err(format!(
            "datagram of {} bytes (limit {MAX_DATAGRAM_BYTES})",
            bytes.len()
        ));
    }
    let body = bytes
        .strip_prefix(DATAGRAM_HEADER)
        .ok_or_else(|| "the datagram does not start with the daemon header and a newline".to_owned())?;
    let text = std::str::from_utf8(body).map_err(|e| format!("document is not UTF-8: {e}"))?;
    let document: Value = serde_json::from_str(text).map_err(|e| format!("document is not JSON: {e}"))?;
    check(&document)
}

/// Checks a document sent on its own (a segment or an independent subsegment), with every
/// subsegment embedded in it.
pub fn check(document: &Value) -> Result<(), String> {
    let mut ids = HashSet::new();
    check_document(document, Level::Independent, &mut ids, "$")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// Sent on its own: a segment, or a subsegment with `type`, `trace_id` and `parent_id`.
    Independent,
    /// Inside a `subsegments` array.
    Embedded,
}

/// The fields the schema defines; any other is an error.
const FIELDS: &[&str] = &[
    "name",
    "id",
    "trace_id",
    "start_time",
    "end_time",
    "in_progress",
    "parent_id",
    "type",
    "namespace",
    "origin",
    "user",
    "service",
    "resource_arn",
    "links",
    "http",
    "fault",
    "error",
    "throttle",
    "cause",
    "aws",
    "annotations",
    "metadata",
    "subsegments",
    "precursor_ids",
    "traced",
    "sql",
];

fn check_document(document: &Value, level: Level, ids: &mut HashSet<String>, at: &str) -> Result<(), String> {
    let fail = |rule: String| Err(format!("{at}: {rule}"));
    let Some(doc) = document.as_object() else {
        return fail("a document is a JSON object".into());
    };
    if let Some(unknown) = doc.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return fail(format!("unknown field {unknown:?}"));
    }
    // name (required): a string of 1 to 200 characters, each a Unicode letter, number or
    // whitespace, or one of `_ . : / % & # = + \ - @` (else InvalidName).
    match doc.get("name") {
        Some(Value::String(name)) => check_name(name).or_else(fail)?,
        _ => return fail("`name` is a required string".into()),
    }
    // id (required): 16 lowercase hex digits, unique in the trace (here: in the datagram).
    match doc.get("id") {
        Some(Value::String(id)) if is_hex16(id) => {
            if !ids.insert(id.clone()) {
                return fail(format!("`id` {id:?} is not unique"));
            }
        }
        other => return fail(format!("`id` is 16 lowercase hex digits, got {other:?}")),
    }
    // trace_id: `1-` + 8 lowercase hex digits (epoch seconds) + `-` + 24 lowercase hex digits;
    // required except on embedded subsegments.
    match (doc.get("trace_id"), level) {
        (Some(Value::String(t)), _) if is_trace_id(t) => {}
        (None, Level::Embedded) => {}
        (other, _) => return fail(format!("`trace_id` is 1-<8 hex>-<24 hex>, got {other:?}")),
    }
    // start_time (required): a number, epoch seconds (not negative).
    match doc.get("start_time") {
        Some(Value::Number(n)) if n.as_f64().is_some_and(|t| t >= 0.0) => {}
        other => {
            return fail(format!(
                "`start_time` is a number of epoch seconds, got {other:?}"
            ))
        }
    }
    // in_progress: a boolean; `true` replaces end_time. end_time: a number of epoch seconds,
    // required unless in_progress is true, absent when it is.
    let in_progress = match doc.get("in_progress") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return fail(format!("`in_progress` is a boolean, got {other}")),
    };
    match (doc.get("end_time"), in_progress) {
        (Some(Value::Number(n)), false) if n.as_f64().is_some_and(|t| t >= 0.0) => {}
        (None, true) => {}
        (other, _) => {
            return fail(format!(
                "`end_time` is a number unless in_progress is true (then absent), got {other:?}"
            ))
        }
    }
    // parent_id: 16 lowercase hex digits.
    let parent = match doc.get("parent_id") {
        None => false,
        Some(Value::String(p)) if is_hex16(p) => true,
        Some(other) => return fail(format!("`parent_id` is 16 lowercase hex digits, got {other}")),
    };
    // type: only "subsegment"; an independent subsegment needs a parent_id (MissingParentId).
    match doc.get("type") {
        None => {}
        Some(Value::String(t)) if t == "subsegment" && level == Level::Independent && !parent => {
            return fail("an independent subsegment needs `parent_id`".into());
        }
        Some(Value::String(t)) if t == "subsegment" => {}
        Some(other) => return fail(format!("`type` is \"subsegment\", got {other}")),
    }
    // namespace: "aws" (AWS SDK calls) or "remote" (other downstream calls).
    match doc.get("namespace") {
        None => {}
        Some(Value::String(n)) if n == "aws" || n == "remote" => {}
        Some(other) => return fail(format!("`namespace` is \"aws\" or \"remote\", got {other}")),
    }
    // origin, user, resource_arn: strings.
    for key in ["origin", "user", "resource_arn"] {
        string_field(doc, key).or_else(fail)?;
    }
    // fault, error, throttle, traced: booleans.
    for key in ["fault", "error", "throttle", "traced"] {
        match doc.get(key) {
            None | Some(Value::Bool(_)) => {}
            Some(other) => return fail(format!("`{key}` is a boolean, got {other}")),
        }
    }
    // service: {version, compiler, compiler_version}, all strings.
    if let Some(service) = doc.get("service") {
        strings_object(service, &["version", "compiler", "compiler_version"])
            .or_else(|e| fail(format!("service: {e}")))?;
    }
    if let Some(http) = doc.get("http") {
        check_http(http).or_else(|e| fail(format!("http: {e}")))?;
    }
    if let Some(cause) = doc.get("cause") {
        check_cause(cause).or_else(|e| fail(format!("cause: {e}")))?;
    }
    if let Some(aws) = doc.get("aws") {
        check_aws(aws).or_else(|e| fail(format!("aws: {e}")))?;
    }
    if let Some(annotations) = doc.get("annotations") {
        check_annotations(annotations).or_else(|e| fail(format!("annotations: {e}")))?;
    }
    // metadata: an object of namespaces, each an object of any JSON.
    if let Some(metadata) = doc.get("metadata") {
        let Some(namespaces) = metadata.as_object() else {
            return fail("`metadata` is an object".into());
        };
        if let Some((name, _)) = namespaces.iter().find(|(_, v)| !v.is_object()) {
            return fail(format!("metadata namespace {name:?} is not an object"));
        }
    }
    // sql: the documented string fields; preparation is "statement" or "call".
    if let Some(sql) = doc.get("sql") {
        let fields = [
            "url",
            "connection_string",
            "sanitized_query",
            "database_type",
            "database_version",
            "driver_version",
            "user",
            "preparation",
        ];
        strings_object(sql, &fields).or_else(|e| fail(format!("sql: {e}")))?;
        match sql.get("preparation") {
            None => {}
            Some(Value::String(p)) if p == "statement" || p == "call" => {}
            Some(other) => {
                return fail(format!(
                    "sql.preparation is \"statement\" or \"call\", got {other}"
                ))
            }
        }
    }
    // links: an array of {trace_id (as above), id (16 hex), attributes (an object)}.
    if let Some(links) = doc.get("links") {
        check_links(links).or_else(|e| fail(format!("links: {e}")))?;
    }
    // precursor_ids: an array of 16-hex-digit ids.
    if let Some(precursors) = doc.get("precursor_ids") {
        match precursors.as_array() {
            Some(list) if list.iter().all(|p| p.as_str().is_some_and(is_hex16)) => {}
            _ => return fail("`precursor_ids` is an array of 16 hex digit ids".into()),
        }
    }
    // subsegments: an array of embedded subsegments, each a document by the same rules
    // (trace_id optional).
    if let Some(subsegments) = doc.get("subsegments") {
        let Some(list) = subsegments.as_array() else {
            return fail("`subsegments` is an array".into());
        };
        for (i, sub) in list.iter().enumerate() {
            let at = format!("{at}.subsegments[{i}]");
            check_document(sub, Level::Embedded, ids, &at)?;
            // An embedded subsegment belongs to the document around it: its parent_id, when
            // written, is that document's id, and its trace_id, when written, the same trace.
            if let Some(parent) = sub.get("parent_id") {
                if Some(parent) != doc.get("id") {
                    return Err(format!(
                        "{at}: `parent_id` {parent} is not the enclosing id {:?}",
                        doc.get("id")
                    ));
                }
            }
            if let (Some(inner), Some(outer)) = (sub.get("trace_id"), doc.get("trace_id")) {
                if inner != outer {
                    return Err(format!(
                        "{at}: `trace_id` {inner} is not the enclosing trace {outer}"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Letters, numbers, whitespace and `_ . : / % & # = + \ - @`, by Unicode general category
/// (`L*`, `N*`) and the White_Space property. The `regex` crate's tables are Unicode 16 and the
/// crate sanitises by newer ones (unicode-properties, Unicode 18): a code point unassigned in
/// Unicode 16 (`Cn`, e.g. the CJK extension J letters of Unicode 17) is left to those newer
/// tables rather than judged here.
fn name_pattern() -> &'static regex::Regex {
    static PATTERN: OnceLock<regex::Regex> = OnceLock::new();
    PATTERN.get_or_init(|| regex::Regex::new(r"^[\p{L}\p{N}\s\p{Cn}_.:/%&#=+\\\-@]*$").expect("pattern"))
}

/// The `name` rule: 1 to 200 characters from the allowed set.
pub fn check_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(format!(
            "`name` has {chars} characters (1 to {MAX_NAME_CHARS}): {name:?}"
        ));
    }
    if !name_pattern().is_match(name) {
        let bad: String = name
            .chars()
            .filter(|c| !name_pattern().is_match(c.encode_utf8(&mut [0; 4])))
            .take(8)
            .collect();
        return Err(format!("`name` has characters X-Ray rejects ({bad:?}): {name:?}"));
    }
    Ok(())
}

/// 16 lowercase hex digits.
pub fn is_hex16(id: &str) -> bool {
    id.len() == 16
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `1-` + 8 lowercase hex digits + `-` + 24 lowercase hex digits.
pub fn is_trace_id(id: &str) -> bool {
    let hex = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    id.len() == 35
        && id.is_char_boundary(2)
        && id.starts_with("1-")
        && id.as_bytes()[10] == b'-'
        && hex(&id[2..10])
        && hex(&id[11..])
}

fn string_field(object: &Map<String, Value>, key: &str) -> Result<(), String> {
    match object.get(key) {
        None | Some(Value::String(_)) => Ok(()),
        Some(other) => Err(format!("`{key}` is a string, got {other}")),
    }
}

/// An object with only `fields`, each a string.
fn strings_object(value: &Value, fields: &[&str]) -> Result<(), String> {
    let object = value.as_object().ok_or("not an object")?;
    for (key, value) in object {
        if !fields.contains(&key.as_str()) {
            return Err(format!("unknown field {key:?}"));
        }
        if !value.is_string() {
            return Err(format!("`{key}` is a string, got {value}"));
        }
    }
    Ok(())
}

/// An object with only `fields`, each a string or null (the keys the reference always writes).
fn nullable_strings_object(value: &Value, fields: &[&str]) -> Result<(), String> {
    let object = value.as_object().ok_or("not an object")?;
    for (key, value) in object {
        if !fields.contains(&key.as_str()) {
            return Err(format!("unknown field {key:?}"));
        }
        if !(value.is_string() || value.is_null()) {
            return Err(format!("`{key}` is a string, got {value}"));
        }
    }
    Ok(())
}

/// An integer (no fraction, no exponent form that is not whole).
fn is_integer(value: &Value) -> bool {
    value.as_i64().is_some() || value.as_u64().is_some()
}

/// http: `{request, response}`. request: method, url, user_agent, client_ip strings,
/// x_forwarded_for and traced booleans. response: status and content_length integers.
fn check_http(http: &Value) -> Result<(), String> {
    let object = http.as_object().ok_or("not an object")?;
    for (key, value) in object {
        match key.as_str() {
            "request" => {
                let request = value.as_object().ok_or("`request` is not an object")?;
                for (key, value) in request {
                    let ok = match key.as_str() {
                        "method" | "url" | "user_agent" | "client_ip" => value.is_string(),
                        "x_forwarded_for" | "traced" => value.is_boolean(),
                        _ => return Err(format!("unknown field request.{key}")),
                    };
                    if !ok {
                        return Err(format!("request.{key} has the wrong type: {value}"));
                    }
                }
            }
            "response" => {
                let response = value.as_object().ok_or("`response` is not an object")?;
                for (key, value) in response {
                    match key.as_str() {
                        "status" | "content_length" if is_integer(value) => {}
                        "status" | "content_length" => {
                            return Err(format!("response.{key} is an integer, got {value}"))
                        }
                        _ => return Err(format!("unknown field response.{key}")),
                    }
                }
            }
            _ => return Err(format!("unknown field {key:?}")),
        }
    }
    Ok(())
}

/// cause: a 16-hex-digit exception id, or `{working_directory (string), paths (array of
/// strings), exceptions (array)}`. Each exception: `id` (16 hex digits, required, unique),
/// `message` and `type` strings, `remote` boolean, `truncated` and `skipped` non-negative
/// integers, `cause` (16 hex digits), `stack`: an array of `{path (string), line (integer),
/// label (string)}`.
fn check_cause(cause: &Value) -> Result<(), String> {
    if let Value::String(id) = cause {
        return if is_hex16(id) {
            Ok(())
        } else {
            Err(format!(
                "a string cause is a 16 hex digit exception id, got {id:?}"
            ))
        };
    }
    let object = cause.as_object().ok_or("a string or an object")?;
    let mut ids = HashSet::new();
    for (key, value) in object {
        match key.as_str() {
            "working_directory" if value.is_string() => {}
            "paths" if value.as_array().is_some_and(|p| p.iter().all(Value::is_string)) => {}
            "exceptions" => {
                let list = value.as_array().ok_or("`exceptions` is an array")?;
                for (i, exception) in list.iter().enumerate() {
                    check_exception(exception, &mut ids).map_err(|e| format!("exceptions[{i}]: {e}"))?;
                }
            }
            _ => return Err(format!("field {key:?} unknown or of the wrong type: {value}")),
        }
    }
    Ok(())
}

fn check_exception(exception: &Value, ids: &mut HashSet<String>) -> Result<(), String> {
    let object = exception.as_object().ok_or("not an object")?;
    match object.get("id") {
        Some(Value::String(id)) if is_hex16(id) => {
            if !ids.insert(id.clone()) {
                return Err(format!("id {id:?} is not unique"));
            }
        }
        other => return Err(format!("`id` is 16 hex digits, got {other:?}")),
    }
    for (key, value) in object {
        let ok = match key.as_str() {
            "id" => true,
            "message" | "type" => value.is_string(),
            "remote" => value.is_boolean(),
            "truncated" | "skipped" => value.as_u64().is_some(),
            "cause" => value.as_str().is_some_and(is_hex16),
            "stack" => match value.as_array() {
                Some(frames) => frames.iter().all(is_stack_frame),
                None => false,
            },
            _ => return Err(format!("unknown field {key:?}")),
        };
        if !ok {
            return Err(format!("`{key}` has the wrong type or form: {value}"));
        }
    }
    Ok(())
}

fn is_stack_frame(frame: &Value) -> bool {
    frame.as_object().is_some_and(|f| {
        f.iter().all(|(k, v)| match k.as_str() {
            "path" | "label" => v.is_string(),
            "line" => is_integer(v),
            _ => false,
        })
    })
}

/// aws: `account_id`, `operation`, `region`, `request_id`, `queue_url`, `table_name` strings,
/// `table_names` an array of strings, `retries` an integer; `ec2`, `ecs`, `eks`,
/// `elastic_beanstalk` objects of their documented keys (strings; null where the reference
/// writes unknown values as null; `deployment_id` an integer); `cloudwatch_logs` an array of
/// `{log_group (string), arn (string)}`; `xray` `{sdk, sdk_version (strings),
/// auto_instrumentation (boolean)}`.
fn check_aws(aws: &Value) -> Result<(), String> {
    let object = aws.as_object().ok_or("not an object")?;
    for (key, value) in object {
        match key.as_str() {
            "account_id" | "operation" | "region" | "request_id" | "queue_url" | "table_name" => {
                if !value.is_string() {
                    return Err(format!("`{key}` is a string, got {value}"));
                }
            }
            "table_names" => {
                if !value.as_array().is_some_and(|t| t.iter().all(Value::is_string)) {
                    return Err(format!("`table_names` is an array of strings, got {value}"));
                }
            }
            "retries" => {
                if !is_integer(value) {
                    return Err(format!("`retries` is an integer, got {value}"));
                }
            }
            "ec2" => nullable_strings_object(
                value,
                &["instance_id", "instance_size", "ami_id", "availability_zone"],
            )
            .map_err(|e| format!("ec2: {e}"))?,
            "ecs" => strings_object(
                value,
                &[
                    "container",
                    "container_id",
                    "task_arn",
                    "task_family",
                    "cluster_arn",
                    "container_arn",
                    "availability_zone",
                    "launch_type",
                ],
            )
            .map_err(|e| format!("ecs: {e}"))?,
            "eks" => nullable_strings_object(value, &["cluster_name", "pod", "container_id"])
                .map_err(|e| format!("eks: {e}"))?,
            "elastic_beanstalk" => {
                let eb = value.as_object().ok_or("elastic_beanstalk is not an object")?;
                for (key, value) in eb {
                    let ok = match key.as_str() {
                        "environment_name" | "version_label" => value.is_string() || value.is_null(),
                        "deployment_id" => is_integer(value) || value.is_null(),
                        _ => return Err(format!("unknown field elastic_beanstalk.{key}")),
                    };
                    if !ok {
                        return Err(format!("elastic_beanstalk.{key} has the wrong type: {value}"));
                    }
                }
            }
            "cloudwatch_logs" => {
                let list = value.as_array().ok_or("`cloudwatch_logs` is an array")?;
                for group in list {
                    strings_object(group, &["log_group", "arn"])
                        .map_err(|e| format!("cloudwatch_logs: {e}"))?;
                    if group.get("log_group").is_none() {
                        return Err("cloudwatch_logs entry without log_group".into());
                    }
                }
            }
            "xray" => {
                let xray = value.as_object().ok_or("`xray` is not an object")?;
                for (key, value) in xray {
                    let ok = match key.as_str() {
                        "sdk" | "sdk_version" => value.is_string(),
                        "auto_instrumentation" => value.is_boolean(),
                        _ => return Err(format!("unknown field xray.{key}")),
                    };
                    if !ok {
                        return Err(format!("xray.{key} has the wrong type: {value}"));
                    }
                }
            }
            _ => return Err(format!("unknown field {key:?}")),
        }
    }
    Ok(())
}

/// annotations: an object of at most 50 entries; each key 1 to 500 characters of ASCII letters,
/// digits, `_` and `.` (PR #31732); each value a string of at most 1000 characters, a number or
/// a boolean (not null, not an array or object).
fn check_annotations(annotations: &Value) -> Result<(), String> {
    let object = annotations.as_object().ok_or("not an object")?;
    if object.len() > MAX_ANNOTATIONS {
        return Err(format!(
            "{} annotations (at most {MAX_ANNOTATIONS})",
            object.len()
        ));
    }
    for (key, value) in object {
        let chars = key.chars().count();
        if chars == 0 || chars > MAX_ANNOTATION_KEY_CHARS {
            return Err(format!(
                "key of {chars} characters (1 to {MAX_ANNOTATION_KEY_CHARS}): {key:?}"
            ));
        }
        if !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            return Err(format!("key {key:?} has characters other than [A-Za-z0-9_.]"));
        }
        match value {
            Value::String(s) => {
                let chars = s.chars().count();
                if chars > MAX_ANNOTATION_VALUE_CHARS {
                    return Err(format!(
                        "value of {key:?} has {chars} characters (at most {MAX_ANNOTATION_VALUE_CHARS})"
                    ));
                }
            }
            Value::Number(_) | Value::Bool(_) => {}
            other => {
                return Err(format!(
                    "value of {key:?} is not a string, number or boolean: {other}"
                ))
            }
        }
    }
    Ok(())
}

fn check_links(links: &Value) -> Result<(), String> {
    let list = links.as_array().ok_or("not an array")?;
    for (i, link) in list.iter().enumerate() {
        let object = link.as_object().ok_or(format!("[{i}] is not an object"))?;
        for (key, value) in object {
            let ok = match key.as_str() {
                "trace_id" => value.as_str().is_some_and(is_trace_id),
                "id" => value.as_str().is_some_and(is_hex16),
                "attributes" => value.is_object(),
                _ => return Err(format!("[{i}]: unknown field {key:?}")),
            };
            if !ok {
                return Err(format!("[{i}].{key} has the wrong type or form: {value}"));
            }
        }
        if !object.contains_key("trace_id") || !object.contains_key("id") {
            return Err(format!("[{i}] needs trace_id and id"));
        }
    }
    Ok(())
}
