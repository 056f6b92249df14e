//! A small bounded XML tree for WFS request bodies: quick-xml events with namespaces resolved,
//! read into elements no deeper than [`MAX_DEPTH`] and no more numerous than [`MAX_ELEMENTS`].
//! No DTD is accepted (so no entity can expand), only the five predefined entities and
//! character references are read, and every error names what is wrong and where (byte offset).

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// The deepest nesting a request may have: a transaction's deepest path (Transaction, Insert,
/// feature, property, MultiSurface, surfaceMember, Polygon, exterior, LinearRing, posList) is
/// ten; filters nest their logical operators a little more.
pub const MAX_DEPTH: usize = 40;

/// The most elements a request may have (a body is at most 16 MiB anyway).
pub const MAX_ELEMENTS: usize = 1_000_000;

/// One element: its namespace (empty when none), local name, attributes and content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    /// Namespace URI, empty when unqualified.
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Attributes (namespace declarations left out).
    pub attrs: Vec<Attr>,
    /// Child elements, in order.
    pub children: Vec<Element>,
    /// The element's own text (its text nodes joined; whitespace kept).
    pub text: String,
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// Namespace URI, empty when unqualified.
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Value, unescaped.
    pub value: String,
}

impl Element {
    /// The value of the attribute with this local name (in any namespace; unqualified first).
    pub fn attr(&self, name: &str) -> Option<&str> {
        let mut found = self.attrs.iter().filter(|a| a.name == name);
        let first = found.next()?;
        if first.ns.is_empty() {
            return Some(&first.value);
        }
        Some(found.find(|a| a.ns.is_empty()).map_or(first.value.as_str(), |a| a.value.as_str()))
    }

    /// The value of the attribute `name` in namespace `ns`.
    pub fn attr_ns(&self, ns: &str, name: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.name == name && a.ns == ns).map(|a| a.value.as_str())
    }

    /// The children with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text, trimmed.
    pub fn trimmed(&self) -> &str {
        self.text.trim()
    }
}

/// Reads a document into its root element.
///
/// # Errors
/// A sentence naming the problem and its byte offset: not XML, a DTD, an unknown entity, too
/// deep, too many elements, no root element, text after the root.
pub fn parse(bytes: &[u8]) -> Result<Element, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("the body is not UTF-8 (at byte {}); send XML in UTF-8", e.valid_up_to()))?;
    let mut reader = NsReader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let at = reader.buffer_position();
        let (resolved, event) =
            reader.read_resolved_event().map_err(|e| format!("not well-formed XML at byte {at}: {e}"))?;
        let ns = match resolved {
            ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(prefix) => {
                return Err(format!(
                    "the namespace prefix \"{}\" is not declared (at byte {at})",
                    String::from_utf8_lossy(&prefix)
                ))
            }
        };
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(format!("not well-formed XML at byte {at}: content after the root element"));
            }
            Event::Start(start) => {
                count += 1;
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements are nested deeper than {MAX_DEPTH} levels (at byte {at})"));
                }
                if count > MAX_ELEMENTS {
                    return Err(format!("more than {MAX_ELEMENTS} elements"));
                }
                stack.push(element(&reader, &start, ns, at)?);
            }
            Event::Empty(start) => {
                count += 1;
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements are nested deeper than {MAX_DEPTH} levels (at byte {at})"));
                }
                if count > MAX_ELEMENTS {
                    return Err(format!("more than {MAX_ELEMENTS} elements"));
                }
                let done = element(&reader, &start, ns, at)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::End(_) => {
                let done = stack
                    .pop()
                    .ok_or_else(|| format!("not well-formed XML at byte {at}: an end tag without a start"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(text) => {
                let content =
                    text.xml10_content().map_err(|e| format!("text that is not UTF-8 (at byte {at}): {e}"))?;
                match stack.last_mut() {
                    Some(parent) => parent.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return Err(format!("not well-formed XML at byte {at}: text outside the root element")),
                }
            }
            Event::CData(data) => {
                let content = data.decode().map_err(|e| format!("CDATA that is not UTF-8 (at byte {at}): {e}"))?;
                if let Some(parent) = stack.last_mut() {
                    parent.text.push_str(&content);
                }
            }
            Event::GeneralRef(reference) => {
                let ch = if reference.is_char_ref() {
                    reference.resolve_char_ref().ok().flatten()
                } else {
                    let name = reference.decode().unwrap_or_default();
                    match name.as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        other => return Err(format!("the entity &{other}; is not defined (at byte {at}); only XML's five predefined entities are read")),
                    }
                };
                let ch = ch.ok_or_else(|| format!("a character reference that names no character (at byte {at})"))?;
                if let Some(parent) = stack.last_mut() {
                    parent.text.push(ch);
                }
            }
            Event::DocType(_) => {
                return Err(format!("a DTD (<!DOCTYPE …>) is not accepted (at byte {at})"));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(format!(
            "not well-formed XML: the document ends inside <{}>",
            stack.last().map_or("", |e| e.name.as_str())
        ));
    }
    root.ok_or_else(|| "the body has no XML element".to_owned())
}

/// An element's name and attributes.
fn element(reader: &NsReader<&[u8]>, start: &BytesStart<'_>, ns: String, at: u64) -> Result<Element, String> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| format!("a malformed attribute in <{name}> (at byte {at}): {e}"))?;
        let key = attr.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let (resolved, local) = reader.resolver().resolve_attribute(key);
        let ns = match resolved {
            ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(prefix) => {
                return Err(format!(
                    "the namespace prefix \"{}\" of an attribute of <{name}> is not declared (at byte {at})",
                    String::from_utf8_lossy(&prefix)
                ))
            }
        };
        let value = attr
            .normalized_value(quick_xml::XmlVersion::default())
            .map_err(|e| {
                format!("the attribute {} of <{name}> (at byte {at}): {e}", String::from_utf8_lossy(local.as_ref()))
            })?
            .into_owned();
        attrs.push(Attr { ns, name: String::from_utf8_lossy(local.as_ref()).into_owned(), value });
    }
    Ok(Element { ns, name, attrs, children: Vec::new(), text: String::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_attributes_and_text_are_read() {
        let doc = br#"<?xml version="1.0"?><w:T xmlns:w="urn:w" xmlns="urn:d" a="1 &amp; 2"><x>A&lt;B &#x1EA1;<![CDATA[<c>]]></x><w:y w:z="q"/></w:T>"#;
        let root = parse(doc).unwrap();
        assert_eq!((root.ns.as_str(), root.name.as_str()), ("urn:w", "T"));
        assert_eq!(root.attr("a"), Some("1 & 2"));
        assert_eq!(root.children[0].ns, "urn:d");
        assert_eq!(root.children[0].text, "A<B ạ<c>");
        assert_eq!(root.children[1].attr_ns("urn:w", "z"), Some("q"));
    }

    #[test]
    fn hostile_documents_are_refused_with_a_reason() {
        let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH + 1), "</a>".repeat(MAX_DEPTH + 1));
        assert!(parse(deep.as_bytes()).unwrap_err().contains("nested deeper"));
        let laughs = br#"<!DOCTYPE l [<!ENTITY a "aaaa">]><l>&a;</l>"#;
        assert!(parse(laughs).unwrap_err().contains("DTD"));
        assert!(parse(b"<l>&a;</l>").unwrap_err().contains("&a;"));
        assert!(parse(b"<a><b></a>").unwrap_err().contains("not well-formed"));
        assert!(parse(b"<a/><b/>").unwrap_err().contains("after the root"));
        assert!(parse(b"<p:a/>").unwrap_err().contains("not declared"));
        assert!(parse(b"").unwrap_err().contains("no XML element"));
        assert!(parse(b"<a>").unwrap_err().contains("ends inside"));
    }
}
