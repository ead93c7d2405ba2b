//! Json: the parsed form of a payload ([`Document`]), and what reads it.
//!
//! Owns: the one in-memory representation of a verified body, and its two readers: RFC 6901
//! [`Pointer`]s (event locators, compiled at start-up) and the adapter that lets `jsonschema`
//! validate a [`Document`] in place ([`Sonic`]). Calls nothing of the gateway.
//!
//! Why not `serde_json::Value`: under load, building a `Value` (a `BTreeMap` per object, a
//! `String` per string) and freeing it was the largest single cost of a webhook (docs/src/decisions.md,
//! "sonic-rs documents"). sonic-rs parses into one arena per document, about five times cheaper for a
//! 1 KB push, and `jsonschema` validates any representation that implements its `json` traits.
//! `serde_json` stays for what the gateway writes (envelopes, answers) and for schemas.
//!
//! Semantics kept from `serde_json`: strict JSON (UTF-8, no trailing data), numbers as 64-bit
//! integers or `f64`. One difference: in an object that repeats a key, the first occurrence is
//! the one read (serde_json keeps the last); RFC 8259 leaves such objects undefined.

use std::borrow::Cow;

use jsonschema::json::{Array, Json, JsonNumber, Node, NodeIdentity, Object};
use jsonschema::JsonType;
use sonic_rs::{JsonContainerTrait, JsonNumberTrait as _, JsonValueTrait};

/// A parsed payload.
pub type Document = sonic_rs::Value;

/// The nesting depth (arrays and objects inside each other) a source accepts unless it sets
/// `max_json_depth`. The deepest of the 116 provider payloads shipped as test fixtures nests 8
/// levels (a Stripe subscription event; `tests/it/depth.rs` keeps the default at least four
/// times the deepest), so 64 leaves eight times that.
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// The highest `max_json_depth` a config may set. A record nests its payload one level down
/// (the envelope's `data`), so every record stays within the 127 levels that `serde_json`, the
/// strictest common consumer parser, reads by default. Every recursion over a document
/// (sonic-rs's parser and its drop, `jsonschema`'s validators, serde's conversions) is tested
/// at this depth on a thread with a runtime worker's stack ([`WORKER_STACK_BYTES`]).
pub const MAX_DEPTH_LIMIT: usize = 100;

/// The stack of each runtime worker thread, set explicitly so tests and fuzz targets run the
/// pipeline's recursions on a stack of the same size. 8 MiB (a Linux main thread's default,
/// four times tokio's): only the pages a thread touches become resident, and a debug build's
/// frames are large (sonic-rs's parser takes about 36 KiB per nesting level there, 0.25 KiB in
/// a release build), so [`MAX_DEPTH_LIMIT`] fits with room even in `cargo run`'s build.
pub const WORKER_STACK_BYTES: usize = 8 * 1024 * 1024;

/// Why a body is not a document the gateway will work with.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Found by a scan of the bytes before any parsing: nothing recursive ran.
    #[error("arrays and objects nest more than {limit} levels deep (at byte {offset})")]
    TooDeep { limit: usize, offset: usize },
    /// The parser's message (line, column, what was expected).
    #[error("{0}")]
    Syntax(#[from] sonic_rs::Error),
}

/// Parses `bytes` (a whole JSON text) into a [`Document`], refusing nesting deeper than
/// `max_depth` before the (recursive) parser sees it.
pub fn parse(bytes: &[u8], max_depth: usize) -> Result<Document, ParseError> {
    check_depth(bytes, max_depth)?;
    Ok(sonic_rs::from_slice(bytes)?)
}

/// Refuses a JSON text whose arrays and objects nest deeper than `limit`, in one pass over the
/// bytes with a counter: no recursion, no allocation. Brackets inside strings do not count.
///
/// For any text the parser would accept this is its exact nesting depth; for one it rejects,
/// the parser stops at its first error, and up to there the two read the same brackets, so the
/// parser never goes deeper than this scan allowed.
pub fn check_depth(bytes: &[u8], limit: usize) -> Result<(), ParseError> {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(ParseError::TooDeep { limit, offset: i });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => {
                // Skip to the closing quote, stepping over escapes (`\"`, `\\`).
                i += 1;
                loop {
                    let Some(k) = bytes
                        .get(i..)
                        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
                    else {
                        // Unterminated: the parser refuses it, having opened nothing more.
                        return Ok(());
                    };
                    i += k;
                    if bytes.get(i) == Some(&b'"') {
                        break;
                    }
                    i += 2;
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The same document as a `serde_json::Value` (for tests, forms and cold paths).
pub fn to_serde(document: &Document) -> serde_json::Value {
    // Every `Document` is representable (its numbers are finite), so this cannot fail.
    serde_json::to_value(document).unwrap_or(serde_json::Value::Null)
}

/// A `serde_json::Value` as a [`Document`].
pub fn from_serde(value: &serde_json::Value) -> Document {
    sonic_rs::to_value(value).unwrap_or_default()
}

/// Tests write documents with `json!`: `doc(json!({...}))`, parsed from its text as a body is.
#[cfg(test)]
pub(crate) fn doc(value: serde_json::Value) -> Document {
    parse(value.to_string().as_bytes(), MAX_DEPTH_LIMIT).expect("json! writes JSON")
}

/// An RFC 6901 JSON pointer, split into unescaped reference tokens once, at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    tokens: Vec<String>,
}

impl Pointer {
    /// `None` unless `text` is empty (the whole document) or starts with `/`.
    pub fn parse(text: &str) -> Option<Pointer> {
        if text.is_empty() {
            return Some(Pointer { tokens: Vec::new() });
        }
        let rest = text.strip_prefix('/')?;
        let tokens = rest
            .split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        Some(Pointer { tokens })
    }

    /// The value the pointer names in `document`: a token is a member name in an object and
    /// an index (digits, no leading zero) in an array.
    pub fn find<'a>(&self, document: &'a Document) -> Option<&'a Document> {
        self.tokens.iter().try_fold(document, |node, token| {
            if let Some(object) = node.as_object() {
                object.get(token)
            } else if let Some(array) = node.as_array() {
                let index = array_index(token)?;
                array.get(index)
            } else {
                None
            }
        })
    }
}

fn array_index(token: &str) -> Option<usize> {
    let digits = token.bytes().all(|b| b.is_ascii_digit());
    let canonical = token == "0" || !token.starts_with('0');
    if token.is_empty() || !digits || !canonical {
        return None;
    }
    token.parse().ok()
}

/// `jsonschema`'s view of a [`Document`]: validators built with
/// `jsonschema::options_for::<Sonic>()` check payloads without converting them.
pub struct Sonic;

impl Json for Sonic {
    type Node<'a> = &'a Document;
    type PreparedKey = String;
    type StringBuffer = ();
    const ACYCLIC: bool = true;

    fn prepare_key(key: &str) -> String {
        key.to_owned()
    }

    fn with_string_node<T>((): &mut (), string: &str, f: impl FnOnce(&Document) -> T) -> T {
        // Only `propertyNames` asks for this: one small copy per member name checked.
        f(&Document::copy_str(string))
    }
}

/// A number of a [`Document`].
#[derive(Debug, Clone)]
pub struct Number(sonic_rs::Number);

impl JsonNumber for Number {
    fn as_u64(&self) -> Option<u64> {
        self.0.as_u64()
    }

    fn as_i64(&self) -> Option<i64> {
        self.0.as_i64()
    }

    fn as_f64(&self) -> Option<f64> {
        self.0.as_f64()
    }

    fn as_str(&self) -> Cow<'_, str> {
        Cow::Owned(self.0.to_string())
    }

    fn to_number(&self) -> Cow<'_, serde_json::Number> {
        let number = if let Some(n) = self.0.as_u64() {
            serde_json::Number::from(n)
        } else if let Some(n) = self.0.as_i64() {
            serde_json::Number::from(n)
        } else {
            // sonic-rs refuses non-finite numbers, so `from_f64` has nothing to refuse.
            self.0
                .as_f64()
                .and_then(serde_json::Number::from_f64)
                .unwrap_or_else(|| serde_json::Number::from(0))
        };
        Cow::Owned(number)
    }

    fn is_written_as_integer(&self) -> bool {
        // Integers are kept as integers; a fraction or an exponent makes an `f64`.
        self.0.is_u64() || self.0.is_i64()
    }
}

impl<'a> Node<'a, Sonic> for &'a Document {
    type Object = &'a sonic_rs::Object;
    type Array = &'a sonic_rs::Array;
    type Number = Number;

    fn as_object(&self) -> Option<&'a sonic_rs::Object> {
        <Document as JsonContainerTrait>::as_object(*self)
    }

    fn as_array(&self) -> Option<&'a sonic_rs::Array> {
        <Document as JsonContainerTrait>::as_array(*self)
    }

    fn as_string(&self) -> Option<Cow<'a, str>> {
        <Document as JsonValueTrait>::as_str(*self).map(Cow::Borrowed)
    }

    fn as_number(&self) -> Option<Number> {
        <Document as JsonValueTrait>::as_number(*self).map(Number)
    }

    fn as_boolean(&self) -> Option<bool> {
        <Document as JsonValueTrait>::as_bool(*self)
    }

    fn is_null(&self) -> bool {
        <Document as JsonValueTrait>::is_null(*self)
    }

    fn is_number(&self) -> bool {
        <Document as JsonValueTrait>::is_number(*self)
    }

    fn json_type(&self) -> JsonType {
        match <Document as JsonValueTrait>::get_type(*self) {
            sonic_rs::JsonType::Null => JsonType::Null,
            sonic_rs::JsonType::Boolean => JsonType::Boolean,
            sonic_rs::JsonType::Number => JsonType::Number,
            sonic_rs::JsonType::String => JsonType::String,
            sonic_rs::JsonType::Array => JsonType::Array,
            sonic_rs::JsonType::Object => JsonType::Object,
        }
    }

    fn equals_value(&self, expected: &serde_json::Value) -> bool {
        // `const` and `enum` of strings, booleans and null without building a `Value`.
        match expected {
            serde_json::Value::String(s) => {
                <Document as JsonValueTrait>::as_str(*self) == Some(s.as_str())
            }
            serde_json::Value::Bool(b) => <Document as JsonValueTrait>::as_bool(*self) == Some(*b),
            serde_json::Value::Null => <Document as JsonValueTrait>::is_null(*self),
            _ => jsonschema::json::cmp::equal(&to_serde(self), expected),
        }
    }

    fn to_value(&self) -> Cow<'a, serde_json::Value> {
        Cow::Owned(to_serde(self))
    }

    fn identity(&self) -> Option<NodeIdentity> {
        Some(NodeIdentity::new(
            std::ptr::from_ref::<Document>(self) as usize
        ))
    }
}

impl<'a> Object<'a, Sonic> for &'a sonic_rs::Object {
    type Node = &'a Document;
    type MemberName = &'a str;
    type MembersIter = sonic_rs::value::object::Iter<'a>;

    fn len(&self) -> usize {
        sonic_rs::Object::len(self)
    }

    fn get(&self, key: &String) -> Option<&'a Document> {
        sonic_rs::Object::get(self, key)
    }

    fn members(&self) -> Self::MembersIter {
        sonic_rs::Object::iter(self)
    }
}

impl<'a> Array<'a, Sonic> for &'a sonic_rs::Array {
    type Node = &'a Document;
    type ElementsIter = std::slice::Iter<'a, Document>;

    fn len(&self) -> usize {
        <[Document]>::len(self)
    }

    fn elements(&self) -> Self::ElementsIter {
        <[Document]>::iter(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_adapter_keeps_the_contract_jsonschema_relies_on() {
        let document = doc(jsonschema::json::conformance::document());
        jsonschema::json::conformance::assert_conformance::<Sonic>(&&document);
    }

    #[test]
    fn pointers_follow_rfc_6901() {
        // The examples of RFC 6901, section 5.
        let d = doc(json!({
            "foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
            "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8
        }));
        let at = |p: &str| Pointer::parse(p).and_then(|p| p.find(&d)).map(to_serde);
        assert_eq!(at(""), Some(to_serde(&d)));
        assert_eq!(at("/foo"), Some(json!(["bar", "baz"])));
        assert_eq!(at("/foo/0"), Some(json!("bar")));
        assert_eq!(at("/"), Some(json!(0)));
        assert_eq!(at("/a~1b"), Some(json!(1)));
        assert_eq!(at("/c%d"), Some(json!(2)));
        assert_eq!(at("/e^f"), Some(json!(3)));
        assert_eq!(at("/g|h"), Some(json!(4)));
        assert_eq!(at("/i\\j"), Some(json!(5)));
        assert_eq!(at("/k\"l"), Some(json!(6)));
        assert_eq!(at("/ "), Some(json!(7)));
        assert_eq!(at("/m~0n"), Some(json!(8)));
        // Not there, or not an index.
        assert_eq!(at("/foo/2"), None);
        assert_eq!(at("/foo/01"), None);
        assert_eq!(at("/foo/-"), None);
        assert_eq!(at("/nope/x"), None);
        assert!(Pointer::parse("foo").is_none());
    }

    #[test]
    fn schemas_validate_documents_in_place() {
        let schema = json!({
            "type": "object",
            "required": ["ref", "commits"],
            "properties": {
                "ref": {"type": "string", "pattern": "^refs/"},
                "size": {"type": "integer", "minimum": 0},
                "kind": {"enum": ["push", "tag"]},
                "commits": {"type": "array", "items": {"type": "object", "required": ["id"]}}
            }
        });
        let validator = jsonschema::options_for::<Sonic>()
            .build(&schema)
            .expect("schema");
        let good = doc(
            json!({"ref": "refs/heads/main", "size": 2, "kind": "push", "commits": [{"id": "a"}]}),
        );
        assert!(validator.is_valid(&good));
        for bad in [
            json!({"ref": "main", "commits": []}),
            json!({"ref": "refs/x", "size": 1.5, "commits": []}),
            json!({"ref": "refs/x", "kind": "merge", "commits": []}),
            json!({"ref": "refs/x", "commits": [{}]}),
            json!({"commits": []}),
        ] {
            let bad_doc = doc(bad.clone());
            assert!(!validator.is_valid(&bad_doc), "{bad}");
            let errors: Vec<String> = validator
                .iter_errors(&bad_doc)
                .map(|e| e.instance_path().to_string())
                .collect();
            assert!(!errors.is_empty(), "{bad}");
        }
    }

    #[test]
    fn numbers_keep_their_kind() {
        let d = doc(json!({"big": u64::MAX, "neg": -3, "float": 2.5}));
        assert_eq!(
            to_serde(&d),
            json!({"big": u64::MAX, "neg": -3, "float": 2.5})
        );
        let big = Pointer::parse("/big")
            .and_then(|p| p.find(&d))
            .expect("big");
        assert!(Node::<Sonic>::as_number(&big).is_some_and(|n| n.is_written_as_integer()));
    }

    /// The depth as the parser sees it, by recursion over a small parsed value.
    fn depth_of(value: &serde_json::Value) -> usize {
        match value {
            serde_json::Value::Array(items) => 1 + items.iter().map(depth_of).max().unwrap_or(0),
            serde_json::Value::Object(members) => {
                1 + members.values().map(depth_of).max().unwrap_or(0)
            }
            _ => 0,
        }
    }

    #[test]
    fn the_depth_scan_counts_what_the_parser_nests() {
        for text in [
            r#"1"#,
            r#""[[[{{{""#,
            r#"[]"#,
            r#"{"a":[1,{"b":[[]]}],"c":"]]]"}"#,
            r#"["\"", [["\\"], "\"[", {"[": "{"}]]"#,
            r#"{"a\\":{"b\\\"":{"c":[]}}}"#,
            r#"[[],[[],[[[]]]],{}]"#,
        ] {
            let value: serde_json::Value = serde_json::from_str(text).expect(text);
            let depth = depth_of(&value);
            assert!(check_depth(text.as_bytes(), depth).is_ok(), "{text}");
            if depth > 0 {
                assert!(
                    matches!(
                        check_depth(text.as_bytes(), depth - 1),
                        Err(ParseError::TooDeep { .. })
                    ),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn deep_texts_are_refused_before_parsing() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let err = parse(deep.as_bytes(), DEFAULT_MAX_DEPTH).expect_err("too deep");
        assert!(
            matches!(
                err,
                ParseError::TooDeep {
                    limit: 64,
                    offset: 64
                }
            ),
            "{err:?}"
        );
        // Unclosed and broken texts too: the parser would recurse before finding the error.
        let open = "{\"a\":".repeat(100_000);
        assert!(matches!(
            parse(open.as_bytes(), DEFAULT_MAX_DEPTH),
            Err(ParseError::TooDeep { .. })
        ));
        // A string that never ends hides nothing.
        assert!(check_depth(b"[\"[[[[", 1).is_ok());
        assert!(check_depth(b"[\"\\", 1).is_ok());
        // Exactly at the limit is fine.
        let at = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(parse(at.as_bytes(), DEFAULT_MAX_DEPTH).is_ok());
    }

    #[test]
    fn invalid_json_is_refused() {
        for bad in [&b"{"[..], b"{\"a\":1} x", b"\"\xff\"", b"[1,]", b"NaN"] {
            assert!(
                parse(bad, DEFAULT_MAX_DEPTH).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
