//! FHIR XML to the FHIR JSON form, for the elements a CapabilityStatement uses.
//!
//! The JSON reader is the only reader; XML is first mapped to the JSON a server would have sent
//! for the same resource, following the FHIR XML/JSON rules:
//!
//! * the root element's name becomes `resourceType`;
//! * a primitive is an element with a `value` attribute: `<fhirVersion value="4.0.1"/>` →
//!   `"fhirVersion": "4.0.1"`; its `id` attribute and `extension` children go to `_fhirVersion`
//!   (and for repeating primitives to a `_name` array aligned with `null`s);
//! * `extension` `url` and element `id` attributes become `url` and `id` properties;
//! * an element that may repeat is an array in JSON even when it occurs once (the list is in
//!   [`is_array`]); any element that does occur more than once becomes an array too;
//! * the booleans and integers the model reads are typed as JSON booleans and numbers;
//! * the XHTML narrative `div` becomes a string holding its markup.
//!
//! Safety: a `<!DOCTYPE` is refused, so no DTD, external entity or entity expansion is ever
//! processed; attribute values accept only XML's five predefined entities and character
//! references (anything else is a malformed-XML error). Nesting is bounded by
//! [`crate::Limits::max_depth`].
//!
//! Limitation: a primitive with extensions but no `value` attribute is read as a complex element
//! (the reader then warns that it expected a primitive), because telling the two apart needs the
//! element's type from the FHIR schema.

use crate::collect::{MAX_ITEMS, MAX_WARNINGS};
use crate::error::{line_col, Error};
use crate::{Limits, Warning};
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// An element as read, before the JSON mapping.
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Element>,
    /// The raw markup of an XHTML `div`.
    div: Option<String>,
    /// Children past the first [`MAX_ITEMS`], skipped unread.
    dropped: usize,
}

/// Parses FHIR XML into the FHIR JSON form.
pub(crate) fn parse(input: &[u8], limits: &Limits) -> Result<Value, Error> {
    parse_with_warnings(input, limits).map(|(value, _)| value)
}

/// Parses FHIR XML into the FHIR JSON form, with a warning for every element whose children
/// were cut at [`MAX_ITEMS`] (no FHIR element has that many; the cap bounds the tree a hostile
/// document can make us build per element) and at most [`Limits::max_values`] elements and
/// attributes in all (which bounds the whole tree).
pub(crate) fn parse_with_warnings(
    input: &[u8],
    limits: &Limits,
) -> Result<(Value, Vec<Warning>), Error> {
    let mut warnings = Vec::new();
    let root = read_tree(input, limits, &mut warnings)?;
    let mut obj = Map::new();
    obj.insert("resourceType".to_owned(), Value::String(root.name.clone()));
    fill_object(&root, &mut obj);
    Ok((Value::Object(obj), warnings))
}

fn xml_error(input: &[u8], pos: u64, message: impl std::fmt::Display) -> Error {
    let (line, column) = line_col(input, usize::try_from(pos).unwrap_or(usize::MAX));
    Error::Xml {
        line,
        column,
        message: message.to_string(),
    }
}

fn read_tree(input: &[u8], limits: &Limits, warnings: &mut Vec<Warning>) -> Result<Element, Error> {
    let max_depth = limits.max_depth;
    // Elements and attributes built so far, against `max_values`.
    let mut built = 0usize;
    let mut count = |element: &Element| {
        built += 1 + element.attrs.len();
        if built > limits.max_values {
            Err(Error::TooManyValues {
                limit: limits.max_values,
            })
        } else {
            Ok(())
        }
    };
    let mut reader = quick_xml::Reader::from_reader(input);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let start = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| xml_error(input, reader.error_position(), e))?;
        match event {
            Event::DocType(_) => {
                let (line, column) = line_col(input, usize::try_from(start).unwrap_or(0));
                return Err(Error::Doctype { line, column });
            }
            Event::Start(_) | Event::Empty(_) if root.is_some() && stack.is_empty() => {
                return Err(xml_error(input, start, "more than one root element"));
            }
            Event::Start(e) => {
                if stack.len() + 1 > max_depth {
                    let (line, column) = line_col(input, usize::try_from(start).unwrap_or(0));
                    return Err(Error::TooDeep {
                        limit: max_depth,
                        line,
                        column,
                    });
                }
                if let Some(parent) = stack.last_mut().filter(|p| p.children.len() >= MAX_ITEMS) {
                    // Skipped with its subtree, never built.
                    parent.dropped += 1;
                    reader
                        .read_to_end(e.name())
                        .map_err(|err| xml_error(input, reader.error_position(), err))?;
                    continue;
                }
                let mut element = start_element(input, start, &e)?;
                count(&element)?;
                if element.name == "div" {
                    // The narrative is kept as raw markup, from `<div` through `</div>`.
                    reader
                        .read_to_end(e.name())
                        .map_err(|err| xml_error(input, reader.error_position(), err))?;
                    let to = usize::try_from(reader.buffer_position())
                        .unwrap_or(input.len())
                        .min(input.len());
                    let from = usize::try_from(start).unwrap_or(0).min(to);
                    let markup = std::str::from_utf8(&input[from..to])
                        .map_err(|err| xml_error(input, start, err))?;
                    element.div = Some(markup.to_owned());
                    attach(&mut stack, &mut root, element);
                } else {
                    stack.push(element);
                }
            }
            Event::Empty(e) => {
                if stack.len() + 1 > max_depth {
                    let (line, column) = line_col(input, usize::try_from(start).unwrap_or(0));
                    return Err(Error::TooDeep {
                        limit: max_depth,
                        line,
                        column,
                    });
                }
                if let Some(parent) = stack.last_mut().filter(|p| p.children.len() >= MAX_ITEMS) {
                    parent.dropped += 1;
                    continue;
                }
                let mut element = start_element(input, start, &e)?;
                count(&element)?;
                if element.name == "div" {
                    let to = usize::try_from(reader.buffer_position()).unwrap_or(input.len());
                    let from = usize::try_from(start).unwrap_or(0);
                    element.div =
                        Some(String::from_utf8_lossy(&input[from..to.min(input.len())]).into());
                }
                attach(&mut stack, &mut root, element);
            }
            Event::End(_) => {
                // quick-xml has already checked that the end tag matches.
                if let Some(element) = stack.pop() {
                    if element.dropped > 0 && warnings.len() < MAX_WARNINGS {
                        // The pointer names the elements on the way (array indexes are not
                        // known before the mapping).
                        let mut pointer: String = stack
                            .iter()
                            .skip(1)
                            .flat_map(|a| ["/", a.name.as_str()])
                            .collect();
                        if !stack.is_empty() {
                            pointer.push('/');
                            pointer.push_str(&element.name);
                        }
                        warnings.push(Warning {
                            pointer,
                            message: format!(
                                "<{}> has {} child elements; only the first {MAX_ITEMS} are read",
                                element.name,
                                element.children.len() + element.dropped
                            ),
                        });
                    }
                    attach(&mut stack, &mut root, element);
                }
            }
            Event::Text(t) => {
                // FHIR XML carries data only in attributes (and the narrative, read raw above).
                // Text is still unescaped so that an undeclared entity is reported, not ignored.
                if !t.iter().all(u8::is_ascii_whitespace) {
                    t.unescape().map_err(|err| xml_error(input, start, err))?;
                }
            }
            Event::CData(_) | Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(xml_error(
            input,
            reader.buffer_position(),
            format!("unexpected end of document inside <{}>", open.name),
        ));
    }
    root.ok_or_else(|| xml_error(input, reader.buffer_position(), "no root element"))
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

/// Most attributes accepted on one element. FHIR elements carry at most a handful (`value`,
/// `id`, `url`, namespace declarations); a hostile element with a million would otherwise cost
/// a million allocations.
const MAX_ATTRIBUTES: usize = 64;

fn start_element(input: &[u8], pos: u64, e: &BytesStart<'_>) -> Result<Element, Error> {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    // quick-xml's own duplicate check compares each attribute with every earlier one
    // (quadratic: a million attributes never finish); the set below does it in linear time.
    let mut seen: HashSet<&[u8]> = HashSet::new();
    for (count, attr) in e.attributes().with_checks(false).enumerate() {
        if count >= MAX_ATTRIBUTES {
            return Err(xml_error(
                input,
                pos,
                format!(
                    "element <{}> has more than {MAX_ATTRIBUTES} attributes",
                    crate::collect::shown(&name)
                ),
            ));
        }
        let attr = attr.map_err(|err| xml_error(input, pos, err))?;
        let key = attr.key;
        if !seen.insert(key.into_inner()) {
            return Err(xml_error(
                input,
                pos,
                format!(
                    "duplicate attribute {} on <{}>",
                    crate::collect::shown(&String::from_utf8_lossy(key.as_ref())),
                    crate::collect::shown(&name)
                ),
            ));
        }
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let value = attr
            .unescape_value()
            .map_err(|err| xml_error(input, pos, err))?;
        let local = String::from_utf8_lossy(key.local_name().as_ref()).into_owned();
        attrs.push((local, value.into_owned()));
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
        div: None,
        dropped: 0,
    })
}

/// Whether element `name` under parent `parent` is an array in the JSON form.
pub(crate) fn is_array(parent: &str, name: &str) -> bool {
    match name {
        // Repeating elements of CapabilityStatement / Conformance (DSTU2 to R5) and the data
        // types it uses (Extension, CodeableConcept, ContactDetail, UsageContext).
        "extension"
        | "modifierExtension"
        | "coding"
        | "contact"
        | "telecom"
        | "useContext"
        | "jurisdiction"
        | "instantiates"
        | "imports"
        | "format"
        | "patchFormat"
        | "implementationGuide"
        | "rest"
        | "supportedProfile"
        | "interaction"
        | "searchInclude"
        | "searchRevInclude"
        | "searchParam"
        | "operation"
        | "compartment"
        | "service"
        | "messaging"
        | "document"
        | "endpoint"
        | "supportedMessage"
        | "event"
        | "target"
        | "chain"
        | "modifier"
        | "referencePolicy"
        | "certificate"
        | "acceptLanguage" => true,
        // `rest.resource` repeats; `profile` repeats only at the top (DSTU2/STU3).
        "resource" => parent == "rest",
        "profile" => parent == "CapabilityStatement" || parent == "Conformance",
        _ => false,
    }
}

/// Elements the model reads as JSON booleans.
fn is_boolean(name: &str) -> bool {
    matches!(
        name,
        "experimental"
            | "cors"
            | "readHistory"
            | "updateCreate"
            | "conditionalCreate"
            | "conditionalUpdate"
            | "conditionalPatch"
            | "lockedDate"
            | "valueBoolean"
    )
}

/// Elements that are JSON numbers.
fn is_number(name: &str) -> bool {
    matches!(
        name,
        "reliableCache" | "valueInteger" | "valueDecimal" | "valueUnsignedInt" | "valuePositiveInt"
    )
}

fn primitive(name: &str, value: &str) -> Value {
    if is_boolean(name) {
        match value {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
    }
    if is_number(name) {
        if let Ok(n) = value.parse::<serde_json::Number>() {
            return Value::Number(n);
        }
    }
    Value::String(value.to_owned())
}

/// The JSON value of one element, and for primitives its `_name` companion (id, extensions).
fn element_value(element: &Element) -> (Value, Option<Value>) {
    if let Some(div) = &element.div {
        return (Value::String(div.clone()), None);
    }
    let value = element
        .attrs
        .iter()
        .find(|(k, _)| k == "value")
        .map(|(_, v)| v.as_str());
    match value {
        Some(value) => {
            let main = primitive(&element.name, value);
            let mut side = Map::new();
            for (k, v) in &element.attrs {
                if k == "id" {
                    side.insert("id".to_owned(), Value::String(v.clone()));
                }
            }
            fill_children(element, &mut side);
            let side = (!side.is_empty()).then_some(Value::Object(side));
            (main, side)
        }
        None => {
            let mut obj = Map::new();
            fill_object(element, &mut obj);
            (Value::Object(obj), None)
        }
    }
}

fn fill_object(element: &Element, obj: &mut Map<String, Value>) {
    for (k, v) in &element.attrs {
        if k == "id" || k == "url" {
            obj.insert(k.clone(), Value::String(v.clone()));
        }
    }
    fill_children(element, obj);
}

/// Groups children by name (in first-appearance order) into JSON properties.
fn fill_children(element: &Element, obj: &mut Map<String, Value>) {
    // One pass with a map from name to group: searching the name list and filtering all
    // children per name was quadratic in the number of distinct sibling names.
    let mut groups: Vec<(&str, Vec<&Element>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for child in &element.children {
        match index.get(child.name.as_str()) {
            Some(&i) => groups[i].1.push(child),
            None => {
                index.insert(&child.name, groups.len());
                groups.push((&child.name, vec![child]));
            }
        }
    }
    for (name, group) in groups {
        let values: Vec<(Value, Option<Value>)> = group.iter().map(|c| element_value(c)).collect();
        let array = group.len() > 1 || is_array(&element.name, name);
        let any_side = values.iter().any(|(_, side)| side.is_some());
        let all_null_main = values
            .iter()
            .all(|(main, side)| side.is_some() && main.is_null());
        if array {
            let (mains, sides): (Vec<Value>, Vec<Option<Value>>) = values.into_iter().unzip();
            if !all_null_main {
                obj.insert(name.to_owned(), Value::Array(mains));
            }
            if any_side {
                let sides = sides
                    .into_iter()
                    .map(|s| s.unwrap_or(Value::Null))
                    .collect();
                obj.insert(format!("_{name}"), Value::Array(sides));
            }
        } else if let Some((main, side)) = values.into_iter().next() {
            obj.insert(name.to_owned(), main);
            if let Some(side) = side {
                obj.insert(format!("_{name}"), side);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn primitives_arrays_and_extensions_follow_the_fhir_rules() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<CapabilityStatement xmlns="http://hl7.org/fhir">
  <!-- a comment -->
  <text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi &amp; <b>bye</b></p></div></text>
  <experimental value="true"/>
  <fhirVersion value="4.0.1"/>
  <format value="json"/>
  <format value="xml"><extension url="http://x/e"><valueString value="ext"/></extension></format>
  <rest>
    <mode value="server"/>
    <resource>
      <type value="Patient"/>
      <documentation id="d1" value="a &quot;quoted&quot; &#10;line">
        <extension url="http://x/doc"><valueInteger value="3"/></extension>
      </documentation>
      <interaction><code value="read"/></interaction>
    </resource>
  </rest>
</CapabilityStatement>"#;
        let v = parse(xml, &Limits::default()).unwrap();
        assert_eq!(v["resourceType"], "CapabilityStatement");
        assert_eq!(v["experimental"], json!(true));
        assert_eq!(v["fhirVersion"], "4.0.1");
        assert_eq!(v["format"], json!(["json", "xml"]));
        assert_eq!(
            v["_format"],
            json!([null, {"extension": [{"url": "http://x/e", "valueString": "ext"}]}])
        );
        assert_eq!(v["text"]["status"], "generated");
        assert_eq!(
            v["text"]["div"],
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>Hi &amp; <b>bye</b></p></div>"#
        );
        let r = &v["rest"][0]["resource"][0];
        assert_eq!(r["type"], "Patient");
        assert_eq!(r["documentation"], "a \"quoted\" \nline");
        assert_eq!(
            r["_documentation"],
            json!({"id": "d1", "extension": [{"url": "http://x/doc", "valueInteger": 3}]})
        );
        assert_eq!(r["interaction"], json!([{"code": "read"}]));
    }

    #[test]
    fn doctype_and_undeclared_entities_are_refused() {
        let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>
<CapabilityStatement><name value="&lol2;"/></CapabilityStatement>"#;
        assert!(matches!(
            parse(bomb, &Limits::default()),
            Err(Error::Doctype { line: 2, column: 1 })
        ));
        let undeclared = br#"<CapabilityStatement><name value="&lol2;"/></CapabilityStatement>"#;
        assert!(matches!(
            parse(undeclared, &Limits::default()),
            Err(Error::Xml { .. })
        ));
    }

    #[test]
    fn broken_xml_gives_positions() {
        for bad in [&b"<a><b></a>"[..], b"<a>", b"", b"<a/><b/>", b"<a x=1/>"] {
            match parse(bad, &Limits::default()) {
                Err(Error::Xml { line, column, .. }) => assert!(line >= 1 && column >= 1),
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bad)),
            }
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(matches!(
            parse(deep.as_bytes(), &Limits::default()),
            Err(Error::TooDeep { limit: 64, .. })
        ));
    }

    #[test]
    fn siblings_past_the_cap_are_skipped_with_one_warning() {
        let mut xml = String::from("<CapabilityStatement><rest>");
        for i in 0..MAX_ITEMS + 3 {
            xml.push_str(&format!("<e{i}><deep><er/></deep></e{i}><f{i}/>"));
        }
        xml.push_str("</rest></CapabilityStatement>");
        let (value, warnings) = parse_with_warnings(xml.as_bytes(), &Limits::default()).unwrap();
        let rest = value["rest"][0].as_object().unwrap();
        // Start and empty elements alike count toward the cap; the first ones are kept.
        assert_eq!(rest.len(), MAX_ITEMS);
        assert!(rest.contains_key("e0") && rest.contains_key("f0"));
        assert!(!rest.contains_key(&format!("e{}", MAX_ITEMS / 2)));
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].pointer, "/rest");
        assert!(
            warnings[0]
                .message
                .contains(&format!("{} child", 2 * (MAX_ITEMS + 3))),
            "{}",
            warnings[0].message
        );
    }

    #[test]
    fn elements_past_the_value_budget_are_refused() {
        // 30 rest entries of 100 services each: under the per-element cap, over a small budget.
        let service = "<service><text value=\"x\"/></service>".repeat(100);
        let rest = format!("<rest>{service}</rest>").repeat(30);
        let xml = format!(
            "<CapabilityStatement xmlns=\"http://hl7.org/fhir\">{rest}</CapabilityStatement>"
        );
        let limits = Limits {
            max_values: 5_000,
            ..Limits::default()
        };
        assert!(matches!(
            parse(xml.as_bytes(), &limits),
            Err(Error::TooManyValues { limit: 5_000 })
        ));
        assert!(parse(xml.as_bytes(), &Limits::default()).is_ok());
    }
}
