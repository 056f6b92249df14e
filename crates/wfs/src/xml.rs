//! XML in and out. In: a small element tree read with quick-xml, bounded in size, depth and
//! element count before anything is built, with names reduced to their local part (WFS clients
//! disagree on prefixes, and FES 2.0 and the older `ogc:` filters share their local names). No
//! DTD, no external entity is ever read. Out: escaping for text and attribute values.

use quick_xml::events::Event;
use quick_xml::Reader;

/// Bounds on an XML document read from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest document, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting.
    pub max_depth: usize,
    /// Most elements.
    pub max_elements: usize,
}

impl Default for Limits {
    /// 1 MiB, depth 64, 20,000 elements.
    fn default() -> Self {
        Limits { max_bytes: 1024 * 1024, max_depth: 64, max_elements: 20_000 }
    }
}

/// An element: local name, attributes (local names; `xmlns` declarations left out), children
/// and its own text (the concatenated text nodes, untrimmed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name.
    pub name: String,
    /// Attributes, by local name.
    pub attrs: Vec<(String, String)>,
    /// Child elements, in order.
    pub children: Vec<Element>,
    /// Text directly inside it.
    pub text: String,
}

impl Element {
    /// An attribute's value, by local name (ASCII case-insensitive, as some clients write
    /// `srsname`).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The children with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Its text, trimmed.
    pub fn trimmed(&self) -> &str {
        self.text.trim()
    }
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, l)) => l.to_owned(),
        None => name.into_owned(),
    }
}

/// Reads a document into its root element.
///
/// # Errors
/// A sentence: too large, too deep, too many elements, malformed, or a DTD.
pub fn parse(text: &str, limits: Limits) -> Result<Element, String> {
    if text.len() > limits.max_bytes {
        return Err(format!("the XML is longer than {} bytes", limits.max_bytes));
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut count = 0usize;
    let mut root: Option<Element> = None;
    let open = |e: &quick_xml::events::BytesStart<'_>| -> Result<Element, String> {
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|e| format!("bad attribute: {e}"))?;
            let key = a.key.as_ref();
            if key == b"xmlns" || key.starts_with(b"xmlns:") {
                continue;
            }
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| format!("bad attribute value: {e}"))?;
            attrs.push((local(key), value.into_owned()));
        }
        Ok(Element { name: local(e.name().as_ref()), attrs, children: Vec::new(), text: String::new() })
    };
    loop {
        let event = reader.read_event().map_err(|e| format!("not well-formed XML: {e}"))?;
        match event {
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                return Err(format!("content after the root element: <{}>", local(e.name().as_ref())));
            }
            Event::Start(e) => {
                count += 1;
                if count > limits.max_elements {
                    return Err(format!("more than {} elements", limits.max_elements));
                }
                if stack.len() >= limits.max_depth {
                    return Err(format!("nested deeper than {} elements", limits.max_depth));
                }
                stack.push(open(&e)?);
            }
            Event::Empty(e) => {
                count += 1;
                if count > limits.max_elements {
                    return Err(format!("more than {} elements", limits.max_elements));
                }
                let element = open(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or("an end tag without its start")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(t) => {
                let text = t.xml10_content().map_err(|e| format!("bad text: {e}"))?;
                match stack.last_mut() {
                    Some(current) => current.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err("text outside the root element".into()),
                }
            }
            Event::CData(t) => {
                let text = t.decode().map_err(|e| format!("bad CDATA: {e}"))?;
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(|e| format!("bad character reference: {e}"))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| format!("bad reference: {e}"))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity &{name};"))?
                            .to_owned()
                    }
                };
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&resolved);
                }
            }
            Event::DocType(_) => return Err("a DTD is not accepted".into()),
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("the XML ends before its elements are closed".into());
    }
    root.ok_or_else(|| "no XML element".into())
}

/// Appends `text` escaped for element content or a double-quoted attribute value.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `text` escaped (see [`escape_into`]).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    escape_into(&mut out, text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_local_names_text_and_entities() {
        let doc = r#"<?xml version="1.0"?><fes:Filter xmlns:fes="http://www.opengis.net/fes/2.0"><fes:PropertyIsEqualTo matchCase="false"><fes:ValueReference>a</fes:ValueReference><fes:Literal>x &amp; y &#233;<![CDATA[<z>]]></fes:Literal></fes:PropertyIsEqualTo></fes:Filter>"#;
        let root = parse(doc, Limits::default()).unwrap();
        assert_eq!(root.name, "Filter");
        assert!(root.attrs.is_empty(), "namespace declarations are not attributes");
        let cmp = root.child("PropertyIsEqualTo").unwrap();
        assert_eq!(cmp.attr("matchcase"), Some("false"));
        assert_eq!(cmp.child("Literal").unwrap().text, "x & y é<z>");
    }

    #[test]
    fn limits_and_malformed_documents_are_refused() {
        let deep = format!("{}{}", "<a>".repeat(70), "</a>".repeat(70));
        assert!(parse(&deep, Limits::default()).unwrap_err().contains("deeper"));
        let many = format!("<r>{}</r>", "<a/>".repeat(30));
        assert!(parse(&many, Limits { max_elements: 10, ..Limits::default() }).unwrap_err().contains("more than 10"));
        assert!(parse("<a><b></a>", Limits::default()).is_err());
        assert!(parse("<a>", Limits::default()).unwrap_err().contains("closed"));
        assert!(parse("<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>", Limits::default()).is_err());
        assert!(parse("<a/><b/>", Limits::default()).is_err());
        assert!(parse(&"x".repeat(100), Limits { max_bytes: 10, ..Limits::default() }).unwrap_err().contains("longer"));
    }

    #[test]
    fn escapes() {
        assert_eq!(escape("a<b & \"c\" 'd'\u{1}"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;\u{FFFD}");
    }
}
