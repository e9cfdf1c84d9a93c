//! Shared helpers: spec paths and the test-only JSON → FHIR XML converter.

use serde_json::{Map, Value};
use std::path::PathBuf;

/// The workspace's `specs/` folder.
pub fn specs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../specs")
}

/// Every capability statement in `specs/vendors` (every JSON file whose `resourceType` is
/// CapabilityStatement or Conformance), by file name.
pub fn vendor_statements() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(specs().join("vendors")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        if matches!(
            v["resourceType"].as_str(),
            Some("CapabilityStatement" | "Conformance")
        ) {
            out.push((
                path.file_name().unwrap().to_string_lossy().into_owned(),
                bytes,
            ));
        }
    }
    out.sort();
    out
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Converts a FHIR JSON resource to FHIR XML, written independently of the reader's XML → JSON
/// mapping: primitives become `value` attributes, `_name` companions become the primitive
/// element's `id` attribute and `extension` children, arrays become repeated elements, `url` of
/// an extension and `id` of a non-resource element become attributes, `div` is written raw.
pub fn json_to_xml(resource: &Value) -> String {
    let obj = resource.as_object().unwrap();
    let name = obj["resourceType"].as_str().unwrap();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!("<{name} xmlns=\"http://hl7.org/fhir\">"));
    write_children(obj, &mut out, true);
    out.push_str(&format!("</{name}>\n"));
    out
}

fn write_children(obj: &Map<String, Value>, out: &mut String, is_resource: bool) {
    for (key, value) in obj {
        if key == "resourceType" || key.starts_with('_') {
            continue;
        }
        if !is_resource && (key == "url" || key == "id") {
            continue; // written as attributes by the caller
        }
        let side = obj.get(&format!("_{key}"));
        match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let side = side.and_then(|s| s.get(i)).filter(|s| !s.is_null());
                    write_element(key, item, side, out);
                }
            }
            other => write_element(key, other, side, out),
        }
    }
    // A primitive with only a `_name` (extensions, no value).
    for (key, side) in obj {
        if let Some(base) = key.strip_prefix('_') {
            if !obj.contains_key(base) {
                write_element(base, &Value::Null, Some(side), out);
            }
        }
    }
}

fn write_element(name: &str, value: &Value, side: Option<&Value>, out: &mut String) {
    if name == "div" {
        out.push_str(value.as_str().unwrap());
        return;
    }
    match value {
        Value::Object(obj) => {
            out.push_str(&format!("<{name}"));
            for attr in ["id", "url"] {
                if let Some(v) = obj.get(attr) {
                    out.push_str(&format!(" {attr}=\"{}\"", escape(&scalar(v))));
                }
            }
            out.push('>');
            write_children(obj, out, false);
            out.push_str(&format!("</{name}>"));
        }
        primitive => {
            out.push_str(&format!("<{name}"));
            if let Some(id) = side.and_then(|s| s.get("id")) {
                out.push_str(&format!(" id=\"{}\"", escape(&scalar(id))));
            }
            if !primitive.is_null() {
                out.push_str(&format!(" value=\"{}\"", escape(&scalar(primitive))));
            }
            match side
                .and_then(|s| s.get("extension"))
                .and_then(Value::as_array)
            {
                Some(exts) => {
                    out.push('>');
                    for ext in exts {
                        write_element("extension", ext, None, out);
                    }
                    out.push_str(&format!("</{name}>"));
                }
                None => out.push_str("/>"),
            }
        }
    }
}
