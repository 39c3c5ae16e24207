//! Whether a line is one JSON object, decided exactly as reading it into a
//! [`serde_json::Value`] would (the same parser: invalid UTF-8, lone surrogates, numbers out
//! of range, nesting deeper than 128 and trailing bytes all fail), without building the value.
//!
//! A record whose topic, key and headers name no field needs no field of the event, only the
//! proof that the line is an object; building the `Value` (a map, a string per key and per
//! value) was most of `send --kafka-brokers`'s own CPU per event (issue 17). The lines events
//! usually are pass [`super::json_scan`]'s one-pass scan; serde_json decides the rest.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// `Ok(true)` when `line` is a JSON object, `Ok(false)` for any other JSON value; `Err` when it
/// is not JSON.
pub fn is_object(line: &[u8]) -> Result<bool, NotJson> {
    // The whole line checked for UTF-8 at once (word by word while it is ASCII) rather than
    // string by string: invalid UTF-8 anywhere fails reading a `Value` too (in a string, or
    // as a syntax error outside one).
    let text = std::str::from_utf8(line).map_err(|_| NotJson)?;
    if super::json_scan::plainly_an_object(line) {
        return Ok(true);
    }
    serde_json::from_str::<Checked>(text)
        .map(|checked| checked.object)
        .map_err(|_| NotJson)
}

/// The line is not JSON; reading it into a `Value` says why.
#[derive(Debug, PartialEq, Eq)]
pub struct NotJson;

/// A JSON value that was read and dropped: only its kind is kept.
struct Checked {
    object: bool,
}

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // `deserialize_any`, as `Value` does: strings are decoded (and so checked), numbers
        // parsed (and so range-checked), not skipped.
        deserializer.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

const SCALAR: Checked = Checked { object: false };

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Checked, E> {
        Ok(SCALAR)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Checked, E> {
        Ok(SCALAR)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Checked, E> {
        Ok(SCALAR)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Checked, E> {
        Ok(SCALAR)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Checked, E> {
        Ok(SCALAR)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok(SCALAR)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(SCALAR)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked { object: true })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::is_object;
    use crate::send::kafka::json_scan::plainly_an_object;

    /// Any JSON value, strings with control characters and non-ASCII text included.
    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// The oracle: what reading into a `Value` says.
    fn value_says(line: &[u8]) -> Result<bool, ()> {
        serde_json::from_slice::<Value>(line)
            .map(|v| v.is_object())
            .map_err(|_| ())
    }

    #[test]
    fn agrees_with_reading_a_value_on_valid_and_invalid_lines() {
        let deep_ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
        let too_deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        let lines: Vec<Vec<u8>> = [
            &br#"{}"#[..],
            br#"  {"a":1}  "#,
            br#"{"a":{"b":[1,2.5,-3e7,true,false,null,"x\n\u00e9\ud83d\ude00"]}}"#,
            br#"{"a":1,"a":2}"#,
            br#"[]"#,
            br#""text""#,
            br#"12"#,
            br#"null"#,
            br#"{"n":1e400}"#,
            br#"{"n":-1e400}"#,
            br#"{"n":18446744073709551616}"#,
            br#"{"s":"\ud800"}"#,
            br#"{"s":"\udc00x"}"#,
            br#"{"s":"\x"}"#,
            b"{\"s\":\"\xff\"}",
            b"{\"\xc3\":1}",
            b"{\"s\":\"a\tb\"}",
            br#"{"a":1} x"#,
            br#"{"a":1}{}"#,
            br#"{"a":1,}"#,
            br#"{"a" 1}"#,
            br#"{"a":01}"#,
            br#"{"a":1."#,
            br#"{"a":"#,
            br#""#,
            b"   ",
            deep_ok.as_bytes(),
            too_deep.as_bytes(),
        ]
        .iter()
        .map(|l| l.to_vec())
        .collect();
        for line in &lines {
            assert_eq!(
                is_object(line).map_err(|_| ()),
                value_says(line),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_reading_a_value_on_any_bytes(line in proptest::collection::vec(
            proptest::sample::select(&b"{}[]\":,.-+0123456789eEtrufalsn \\u\xc3\xa9\xff"[..]), 0..40)) {
            proptest::prop_assert_eq!(is_object(&line).map_err(|_| ()), value_says(&line));
        }

        #[test]
        fn the_fast_scan_only_vouches_for_objects_a_value_reads(line in proptest::collection::vec(
            proptest::sample::select(&b"{}[]\":,.-0123456789etrufalsn \\u\tdD8\xc3\xa9"[..]), 0..48)) {
            if std::str::from_utf8(&line).is_ok() && plainly_an_object(&line) {
                proptest::prop_assert_eq!(value_says(&line), Ok(true));
            }
        }

        #[test]
        fn the_fast_scan_agrees_on_generated_objects(value in json_value()) {
            let line = serde_json::to_vec(&serde_json::json!({ "v": value })).unwrap();
            proptest::prop_assert_eq!(is_object(&line), Ok(true));
            if plainly_an_object(&line) {
                proptest::prop_assert_eq!(value_says(&line), Ok(true));
            }
        }
    }
}
