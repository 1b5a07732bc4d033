//! The `X-Amzn-Trace-Id` header: parsing and formatting, with no OpenTelemetry types.
//!
//! Parsing follows one tolerant rule: the value is split on `;`; each
//! part is trimmed and split at its first `=`, key and value trimmed again; empty parts and parts
//! without `=` are skipped; keys are matched exactly (`Root`, `Parent`, `Sampled`; `Self` is
//! dropped) and the last duplicate wins. A header is valid when `Root` is
//! `1-<8 hex>-<24 hex>` and not all zero; an invalid or missing `Parent` leaves a valid `Root`
//! that starts a new local root in the same trace. Any other key (`Lineage`, custom fields) is
//! kept, in order, and sent on. A header over 2 KB or with more than 32 parts is ignored.

use std::fmt::Write as _;

/// Headers longer than this are ignored.
const MAX_HEADER_BYTES: usize = 2048;
/// Headers with more parts than this are ignored.
const MAX_HEADER_PARTS: usize = 32;

/// The caller's sampling decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sampled {
    /// `Sampled=1`.
    Yes,
    /// `Sampled=0`.
    No,
    /// `Sampled=?`: the caller asks the receiver to decide.
    Requested,
    /// No (recognisable) `Sampled` field: the receiver decides.
    Unknown,
}

/// A parsed `X-Amzn-Trace-Id`, borrowing the extra fields from the header value.
///
/// ```
/// use xray_bridge::{Sampled, TraceHeader};
///
/// let header = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793; Sampled=?")
///     .expect("a valid Root");
/// assert_eq!(header.parent(), None); // a new local root in the caller's trace
/// assert_eq!(header.sampled(), Sampled::Requested);
/// assert_eq!(header.to_string(), "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceHeader<'a> {
    pub(crate) root: [u8; 16],
    pub(crate) parent: Option<[u8; 8]>,
    pub(crate) sampled: Sampled,
    pub(crate) extra: Vec<(&'a str, &'a str)>,
}

impl<'a> TraceHeader<'a> {
    /// The trace id (`Root`), as its 16 bytes: 4 of epoch seconds, 12 random.
    pub fn root(&self) -> [u8; 16] {
        self.root
    }

    /// The caller's segment or subsegment id (`Parent`), when present and valid.
    pub fn parent(&self) -> Option<[u8; 8]> {
        self.parent
    }

    /// The caller's decision.
    pub fn sampled(&self) -> Sampled {
        self.sampled
    }

    /// Other fields (`Lineage`, custom keys), in header order, duplicates resolved.
    pub fn extra(&self) -> &[(&'a str, &'a str)] {
        &self.extra
    }

    /// Parses a header value; `None` when it carries no valid `Root` (start a new trace).
    pub fn parse(value: &'a str) -> Option<Self> {
        if value.len() > MAX_HEADER_BYTES || value.bytes().filter(|b| *b == b';').count() >= MAX_HEADER_PARTS
        {
            return None;
        }
        let (mut root, mut parent, mut sampled) = (None, None, None);
        let mut extra: Vec<(&'a str, &'a str)> = Vec::new();
        for part in value.split(';') {
            let Some((key, field)) = part.split_once('=') else {
                continue;
            };
            let (key, field) = (key.trim(), field.trim());
            match key {
                "Root" => root = Some(field),
                "Parent" => parent = Some(field),
                "Sampled" => sampled = Some(field),
                "Self" | "" => {}
                _ => match extra.iter_mut().find(|(k, _)| *k == key) {
                    Some(entry) => entry.1 = field,
                    None => extra.push((key, field)),
                },
            }
        }
        let root = parse_root(root?)?;
        let parent = parent.and_then(parse_hex::<8>).filter(|p| *p != [0; 8]);
        let sampled = match sampled {
            Some("1") => Sampled::Yes,
            Some("0") => Sampled::No,
            Some("?") => Sampled::Requested,
            _ => Sampled::Unknown,
        };
        Some(TraceHeader {
            root,
            parent,
            sampled,
            extra,
        })
    }

    /// Appends the header value to `out`: `Root=…`, `Parent=…` when known, `Sampled=1|0|?` when
    /// decided or requested, then the extra fields.
    pub fn write(&self, out: &mut String) {
        out.reserve(80);
        out.push_str("Root=1-");
        push_hex(out, &self.root[..4]);
        out.push('-');
        push_hex(out, &self.root[4..]);
        if let Some(parent) = &self.parent {
            out.push_str(";Parent=");
            push_hex(out, parent);
        }
        let sampled = match self.sampled {
            Sampled::Yes => Some('1'),
            Sampled::No => Some('0'),
            Sampled::Requested => Some('?'),
            Sampled::Unknown => None,
        };
        if let Some(flag) = sampled {
            out.push_str(";Sampled=");
            out.push(flag);
        }
        for (key, value) in &self.extra {
            let _ = write!(out, ";{key}={value}");
        }
    }
}

impl std::fmt::Display for TraceHeader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        self.write(&mut out);
        f.write_str(&out)
    }
}

/// `1-<8 hex>-<24 hex>`, not all zero, into 16 bytes.
fn parse_root(root: &str) -> Option<[u8; 16]> {
    let rest = root.strip_prefix("1-")?;
    let (epoch, random) = rest.split_once('-')?;
    if epoch.len() != 8 || random.len() != 24 {
        return None;
    }
    let epoch = parse_hex::<4>(epoch)?;
    let random = parse_hex::<12>(random)?;
    let mut bytes = [0u8; 16];
    bytes[..4].copy_from_slice(&epoch);
    bytes[4..].copy_from_slice(&random);
    (bytes != [0; 16]).then_some(bytes)
}

/// Exactly `2 * N` hex digits (either case) into `N` bytes.
fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut bytes = [0u8; N];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        let digit = |c: u8| (c as char).to_digit(16);
        *byte = (digit(pair[0])? << 4 | digit(pair[1])?) as u8;
    }
    Some(bytes)
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0xf)] as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_normalises() {
        let header =
            TraceHeader::parse(" Root=1-5759E988-BD862E3FE1BE46A994272793 ;Sampled=1; Lineage=a:1 ;Self=x;")
                .unwrap();
        assert_eq!(
            header.to_string(),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1;Lineage=a:1"
        );
    }

    #[test]
    fn ignores_oversize_headers() {
        let long = format!(
            "Root=1-5759e988-bd862e3fe1be46a994272793;X={}",
            "a".repeat(MAX_HEADER_BYTES)
        );
        assert_eq!(TraceHeader::parse(&long), None);
        let many = format!(
            "Root=1-5759e988-bd862e3fe1be46a994272793{}",
            ";A=b".repeat(MAX_HEADER_PARTS)
        );
        assert_eq!(TraceHeader::parse(&many), None);
    }
}
