//! A JavaScript value as the recorder copied it out of the page: JSON plus the
//! distinctions JSON loses (`undefined` versus an absent key, functions, class
//! instances, cycles, truncation).
//!
//! The recorder sends every value tagged, as a JSON array whose first element says
//! what it is: `["u"]` undefined, `["z"]` null, `["b",true]`, `["n",1.5]`,
//! `["N","NaN"]` a non-finite number, `["s","text"]` (a third element `true` marks a
//! cut string), `["B","12"]` bigint, `["y","desc"]` symbol, `["f","name"]` function,
//! `["d","iso"]` Date, `["a",[..],cut]` array, `["o",[[k,v],..],cut]` plain object,
//! `["i","Class",[[k,v],..],cut]` other object, `["c"]` a cycle, `["t"]` cut for
//! size, `["x","why"]` a value that could not be read (a getter threw).

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value as Json;

/// A copied JavaScript value.
#[derive(Debug, Clone, PartialEq)]
pub enum JsValue {
    /// `undefined`.
    Undefined,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A finite number.
    Number(f64),
    /// `NaN`, `Infinity` or `-Infinity`.
    NonFinite(String),
    /// A string; `cut` when the recorder shortened it.
    String {
        /// The string's text, cut at the recorder's bound.
        value: String,
        /// Shortened by the recorder.
        cut: bool,
    },
    /// A bigint, in decimal.
    BigInt(String),
    /// A symbol, with its description.
    Symbol(String),
    /// A function, with its name.
    Function(String),
    /// A `Date`, as ISO text (or `Invalid Date`).
    Date(String),
    /// An array; `cut` when items were left out.
    Array {
        /// The elements, in order (the recorder's bound applies).
        items: Vec<JsValue>,
        /// Items were left out.
        cut: bool,
    },
    /// An object whose prototype is `Object.prototype` or `null`.
    Object {
        /// Own enumerable entries, in order.
        entries: Vec<(String, JsValue)>,
        /// Entries were left out.
        cut: bool,
    },
    /// Any other object (a class instance, a Map, ...).
    Instance {
        /// The constructor's name.
        class: String,
        /// Own enumerable entries, in order.
        entries: Vec<(String, JsValue)>,
        /// Entries were left out.
        cut: bool,
    },
    /// A reference back to an object already being copied.
    Circular,
    /// Left out because the copy reached its size bound.
    Truncated,
    /// Could not be read (a throwing getter, a revoked proxy).
    Unreadable(String),
}

impl JsValue {
    /// A plain string value (test and demo helper).
    pub fn string(s: impl Into<String>) -> Self {
        JsValue::String {
            value: s.into(),
            cut: false,
        }
    }

    /// A plain object from entries (test helper).
    pub fn object(entries: Vec<(&str, JsValue)>) -> Self {
        JsValue::Object {
            entries: entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            cut: false,
        }
    }

    /// Converts ordinary JSON (as a test would write it) into a value.
    pub fn from_json(json: &Json) -> Self {
        match json {
            Json::Null => JsValue::Null,
            Json::Bool(b) => JsValue::Bool(*b),
            Json::Number(n) => JsValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            Json::String(s) => JsValue::string(s.clone()),
            Json::Array(items) => JsValue::Array {
                items: items.iter().map(JsValue::from_json).collect(),
                cut: false,
            },
            Json::Object(map) => JsValue::Object {
                entries: map
                    .iter()
                    .map(|(k, v)| (k.clone(), JsValue::from_json(v)))
                    .collect(),
                cut: false,
            },
        }
    }

    /// The entries of a plain object, else `None`.
    pub fn as_plain_object(&self) -> Option<&[(String, JsValue)]> {
        match self {
            JsValue::Object { entries, .. } => Some(entries),
            _ => None,
        }
    }

    /// The value under `key` of a plain object or instance (the last one wins, as in JS).
    pub fn get(&self, key: &str) -> Option<&JsValue> {
        match self {
            JsValue::Object { entries, .. } | JsValue::Instance { entries, .. } => {
                entries.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// The value under `key`, treating `undefined` as absent (JSON drops it).
    pub fn get_defined(&self, key: &str) -> Option<&JsValue> {
        self.get(key).filter(|v| !matches!(v, JsValue::Undefined))
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsValue::String { value, .. } => Some(value),
            _ => None,
        }
    }

    /// `null`, `""` or only whitespace: a key sent without a value.
    pub fn is_empty_value(&self) -> bool {
        match self {
            JsValue::Null => true,
            JsValue::String { value, .. } => value.trim().is_empty(),
            _ => false,
        }
    }

    /// What JavaScript's `typeof` (refined for arrays, null and dates) calls it.
    pub fn type_name(&self) -> &'static str {
        match self {
            JsValue::Undefined => "undefined",
            JsValue::Null => "null",
            JsValue::Bool(_) => "boolean",
            JsValue::Number(_) | JsValue::NonFinite(_) => "number",
            JsValue::String { .. } => "string",
            JsValue::BigInt(_) => "bigint",
            JsValue::Symbol(_) => "symbol",
            JsValue::Function(_) => "function",
            JsValue::Date(_) => "Date",
            JsValue::Array { .. } => "array",
            JsValue::Object { .. } => "object",
            JsValue::Instance { .. } => "object instance",
            JsValue::Circular | JsValue::Truncated | JsValue::Unreadable(_) => "unreadable",
        }
    }

    /// Equality as the SDK would see it after a JSON round trip: object key order
    /// ignored, `undefined` entries dropped.
    pub fn same_data(&self, other: &JsValue) -> bool {
        use JsValue::*;
        let defined =
            |entries: &[(std::string::String, JsValue)]| -> Vec<(std::string::String, JsValue)> {
                let mut kept: Vec<(std::string::String, JsValue)> = entries
                    .iter()
                    .filter(|(_, v)| !matches!(v, Undefined))
                    .cloned()
                    .collect();
                kept.sort_by(|a, b| a.0.cmp(&b.0));
                kept
            };
        match (self, other) {
            // What was not read (a getter the audit left alone, a throwing
            // getter, a value cut for size) cannot be shown to differ.
            (Unreadable(_) | Truncated, _) | (_, Unreadable(_) | Truncated) => true,
            (Object { entries: a, .. }, Object { entries: b, .. }) => {
                let (a, b) = (defined(a), defined(b));
                a.len() == b.len()
                    && a.iter()
                        .zip(&b)
                        .all(|((ka, va), (kb, vb))| ka == kb && va.same_data(vb))
            }
            (Array { items: a, .. }, Array { items: b, .. }) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_data(y))
            }
            _ => self.data_json() == other.data_json(),
        }
    }

    /// JSON as the SDK receives it: `undefined` entries of objects dropped.
    fn data_json(&self) -> Json {
        match self {
            JsValue::Object { entries, .. } => Json::Object(
                entries
                    .iter()
                    .filter(|(_, v)| !matches!(v, JsValue::Undefined))
                    .map(|(k, v)| (k.clone(), v.data_json()))
                    .collect(),
            ),
            JsValue::Array { items, .. } => {
                Json::Array(items.iter().map(JsValue::data_json).collect())
            }
            other => other.to_json(),
        }
    }

    /// Renders the value as JSON for reports. What JSON cannot hold is shown as
    /// `{"$js": "..."}`; `undefined` entries of objects are kept that way so a report
    /// shows that the key was sent.
    pub fn to_json(&self) -> Json {
        let marker = |what: String| serde_json::json!({ "$js": what });
        let entries_json = |entries: &[(String, JsValue)]| {
            let mut map = serde_json::Map::new();
            for (k, v) in entries {
                map.insert(k.clone(), v.to_json());
            }
            Json::Object(map)
        };
        match self {
            JsValue::Undefined => marker("undefined".into()),
            JsValue::Null => Json::Null,
            JsValue::Bool(b) => Json::Bool(*b),
            JsValue::Number(n) => serde_json::Number::from_f64(*n)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            JsValue::NonFinite(s) => marker(s.clone()),
            JsValue::String { value, .. } => Json::String(value.clone()),
            JsValue::BigInt(s) => marker(format!("{s}n")),
            JsValue::Symbol(s) => marker(format!("Symbol({s})")),
            JsValue::Function(name) => marker(format!("function {name}")),
            JsValue::Date(iso) => marker(format!("Date({iso})")),
            JsValue::Array { items, .. } => {
                Json::Array(items.iter().map(|v| v.to_json()).collect())
            }
            JsValue::Object { entries, .. } => entries_json(entries),
            JsValue::Instance { class, entries, .. } => {
                serde_json::json!({ "$js": format!("{class} instance"), "fields": entries_json(entries) })
            }
            JsValue::Circular => marker("circular reference".into()),
            JsValue::Truncated => marker("left out (size bound)".into()),
            JsValue::Unreadable(why) => marker(format!("unreadable: {why}")),
        }
    }

    /// Short human text of the value, for messages (`"33"`, `true`, `null`).
    pub fn display(&self) -> String {
        let text = match self {
            JsValue::Undefined => "undefined".to_string(),
            JsValue::String { value, .. } => format!("{value:?}"),
            other => other.to_json().to_string(),
        };
        if text.chars().count() > 80 {
            let cut: String = text.chars().take(77).collect();
            format!("{cut}...")
        } else {
            text
        }
    }

    /// Whether the recorder shortened this value anywhere.
    pub fn is_cut(&self) -> bool {
        match self {
            JsValue::Truncated => true,
            JsValue::String { cut, .. } => *cut,
            JsValue::Array { items, cut } => *cut || items.iter().any(JsValue::is_cut),
            JsValue::Object { entries, cut } | JsValue::Instance { entries, cut, .. } => {
                *cut || entries.iter().any(|(_, v)| v.is_cut())
            }
            _ => false,
        }
    }

    fn from_tagged(json: &Json) -> Result<Self, String> {
        let arr = json.as_array().ok_or("a tagged value must be an array")?;
        let tag = arr
            .first()
            .and_then(Json::as_str)
            .ok_or("a tagged value needs a tag")?;
        let text = |i: usize| -> String {
            arr.get(i)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let flag = |i: usize| arr.get(i).and_then(Json::as_bool).unwrap_or(false);
        let entries = |i: usize| -> Result<Vec<(String, JsValue)>, String> {
            arr.get(i)
                .and_then(Json::as_array)
                .ok_or("entries expected")?
                .iter()
                .map(|pair| {
                    let k = pair
                        .get(0)
                        .and_then(Json::as_str)
                        .ok_or("entry key expected")?;
                    let v = JsValue::from_tagged(pair.get(1).ok_or("entry value expected")?)?;
                    Ok((k.to_string(), v))
                })
                .collect()
        };
        Ok(match tag {
            "u" => JsValue::Undefined,
            "z" => JsValue::Null,
            "b" => JsValue::Bool(flag(1)),
            "n" => JsValue::Number(arr.get(1).and_then(Json::as_f64).ok_or("number expected")?),
            "N" => JsValue::NonFinite(text(1)),
            "s" => JsValue::String {
                value: text(1),
                cut: flag(2),
            },
            "B" => JsValue::BigInt(text(1)),
            "y" => JsValue::Symbol(text(1)),
            "f" => JsValue::Function(text(1)),
            "d" => JsValue::Date(text(1)),
            "a" => JsValue::Array {
                items: arr
                    .get(1)
                    .and_then(Json::as_array)
                    .ok_or("items expected")?
                    .iter()
                    .map(JsValue::from_tagged)
                    .collect::<Result<_, _>>()?,
                cut: flag(2),
            },
            "o" => JsValue::Object {
                entries: entries(1)?,
                cut: flag(2),
            },
            "i" => JsValue::Instance {
                class: text(1),
                entries: entries(2)?,
                cut: flag(3),
            },
            "c" => JsValue::Circular,
            "t" => JsValue::Truncated,
            "x" => JsValue::Unreadable(text(1)),
            other => return Err(format!("unknown value tag {other:?}")),
        })
    }

    fn to_tagged(&self) -> Json {
        use serde_json::json;
        let entries = |e: &[(String, JsValue)]| -> Json {
            Json::Array(e.iter().map(|(k, v)| json!([k, v.to_tagged()])).collect())
        };
        match self {
            JsValue::Undefined => json!(["u"]),
            JsValue::Null => json!(["z"]),
            JsValue::Bool(b) => json!(["b", b]),
            JsValue::Number(n) => json!(["n", n]),
            JsValue::NonFinite(s) => json!(["N", s]),
            JsValue::String { value, cut } => json!(["s", value, cut]),
            JsValue::BigInt(s) => json!(["B", s]),
            JsValue::Symbol(s) => json!(["y", s]),
            JsValue::Function(s) => json!(["f", s]),
            JsValue::Date(s) => json!(["d", s]),
            JsValue::Array { items, cut } => json!([
                "a",
                Json::Array(items.iter().map(JsValue::to_tagged).collect()),
                cut
            ]),
            JsValue::Object { entries: e, cut } => json!(["o", entries(e), cut]),
            JsValue::Instance {
                class,
                entries: e,
                cut,
            } => json!(["i", class, entries(e), cut]),
            JsValue::Circular => json!(["c"]),
            JsValue::Truncated => json!(["t"]),
            JsValue::Unreadable(s) => json!(["x", s]),
        }
    }
}

/// Values travel (recorder to tool, and in saved captures) in the tagged form.
impl<'de> Deserialize<'de> for JsValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Json::deserialize(deserializer)?;
        JsValue::from_tagged(&json).map_err(de::Error::custom)
    }
}

impl Serialize for JsValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_tagged().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn undefined_key_is_kept_apart_from_absent_key() {
        let v: JsValue = serde_json::from_value(json!(["o", [["name", ["u"]]], false])).unwrap();
        assert_eq!(v.get("name"), Some(&JsValue::Undefined));
        assert_eq!(v.get_defined("name"), None);
        assert_eq!(v.get("other"), None);
    }

    #[test]
    fn tagged_form_round_trips() {
        let tagged = json!([
            "o",
            [
                ["a", ["a", [["n", 1.0], ["c"], ["t"]], true]],
                ["d", ["i", "Foo", [["x", ["x", "boom"]]], false]],
                ["s", ["s", "abc", true]]
            ],
            false
        ]);
        let v: JsValue = serde_json::from_value(tagged.clone()).unwrap();
        assert!(v.is_cut());
        assert_eq!(serde_json::to_value(&v).unwrap(), tagged);
    }

    #[test]
    fn same_data_ignores_key_order() {
        let a = JsValue::from_json(&json!({"a": 1, "b": "x"}));
        let b = JsValue::from_json(&json!({"b": "x", "a": 1}));
        assert!(a.same_data(&b));
        assert!(!a.same_data(&JsValue::from_json(&json!({"a": 2, "b": "x"}))));
    }

    #[test]
    fn empty_values() {
        assert!(JsValue::Null.is_empty_value());
        assert!(JsValue::string("  ").is_empty_value());
        assert!(!JsValue::string("x").is_empty_value());
        assert!(!JsValue::Undefined.is_empty_value());
        assert!(!JsValue::Bool(false).is_empty_value());
    }
}
