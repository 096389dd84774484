//! A tiny, safe XML element reader for WeCom callback bodies: builds a tree of elements with
//! their text (plain or CDATA), ignoring attributes, comments and processing instructions.
//!
//! Safety: a DOCTYPE is refused outright, and only the five predefined XML entities (plus
//! numeric character references) are resolved; any other entity reference is an error.

use quick_xml::Reader;
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesStart, Event};

use super::MessageError;

/// Deepest nesting accepted (WeCom bodies use at most four levels).
const MAX_DEPTH: usize = 32;

/// One element: its name, its text content and its child elements, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child element called `name` (exact, case-sensitive match).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All child elements called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child called `name`, verbatim.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// An element being read: text arrives in pieces (plain text and CDATA sections).
struct Open {
    name: String,
    pieces: Vec<(bool, String)>,
    children: Vec<Element>,
}

impl Open {
    fn new(start: &BytesStart<'_>) -> Result<Self, MessageError> {
        let name = std::str::from_utf8(start.name().as_ref())
            .map_err(|_| malformed("element name is not UTF-8"))?
            .to_owned();
        Ok(Self {
            name,
            pieces: Vec::new(),
            children: Vec::new(),
        })
    }

    /// Joins the text pieces. When CDATA is present, whitespace-only plain text around it
    /// (indentation) is dropped, so `<A>\n  <![CDATA[x]]>\n</A>` reads as `x`.
    fn finish(self) -> Element {
        let has_cdata = self.pieces.iter().any(|(cdata, _)| *cdata);
        let text = self
            .pieces
            .into_iter()
            .filter(|(cdata, t)| *cdata || !has_cdata || !t.trim().is_empty())
            .map(|(_, t)| t)
            .collect();
        Element {
            name: self.name,
            text,
            children: self.children,
        }
    }
}

fn malformed(why: impl Into<String>) -> MessageError {
    MessageError::Malformed(why.into())
}

/// Parses a whole document into its root element.
pub(crate) fn parse_document(xml: &str) -> Result<Element, MessageError> {
    let mut reader = Reader::from_str(xml.strip_prefix('\u{feff}').unwrap_or(xml));
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Element> = None;

    // Attaches a finished element to its parent, or makes it the root.
    let attach =
        |stack: &mut Vec<Open>, root: &mut Option<Element>, el: Element| match stack.last_mut() {
            Some(parent) => {
                parent.children.push(el);
                Ok(())
            }
            None if root.is_none() => {
                *root = Some(el);
                Ok(())
            }
            None => Err(malformed("more than one root element")),
        };

    loop {
        let event = reader.read_event().map_err(|e| malformed(e.to_string()))?;
        match event {
            Event::DocType(_) => return Err(malformed("DOCTYPE is not allowed")),
            Event::Start(start) => {
                if stack.is_empty() && root.is_some() {
                    return Err(malformed("more than one root element"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(malformed("elements nested too deeply"));
                }
                stack.push(Open::new(&start)?);
            }
            Event::Empty(start) => {
                let el = Open::new(&start)?.finish();
                attach(&mut stack, &mut root, el)?;
            }
            Event::End(_) => {
                // quick-xml has already checked that the end tag matches the open one.
                let open = stack.pop().ok_or_else(|| malformed("unmatched end tag"))?;
                attach(&mut stack, &mut root, open.finish())?;
            }
            Event::Text(text) => {
                let text = text
                    .unescape_with(resolve_xml_entity)
                    .map_err(|e| malformed(e.to_string()))?;
                match stack.last_mut() {
                    Some(open) => open.pieces.push((false, text.into_owned())),
                    None if text.trim().is_empty() => {}
                    None => return Err(malformed("text outside the root element")),
                }
            }
            Event::CData(cdata) => {
                let text = cdata.decode().map_err(|e| malformed(e.to_string()))?;
                match stack.last_mut() {
                    Some(open) => open.pieces.push((true, text.into_owned())),
                    None => return Err(malformed("CDATA outside the root element")),
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                if !stack.is_empty() {
                    return Err(malformed("unexpected end of document"));
                }
                return root.ok_or_else(|| malformed("no root element"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_elements_text_and_cdata() {
        let doc = parse_document(
            "<?xml version=\"1.0\"?>\n<xml>\n  <A><![CDATA[ x<y ]]></A>\n  <B>1 &amp; 2 &#65;</B>\
             <C/><!-- note --><D>\n  <![CDATA[z]]>\n</D><E><F>f</F></E></xml>\n",
        )
        .unwrap();
        assert_eq!(doc.name, "xml");
        assert_eq!(doc.text_of("A"), Some(" x<y "));
        assert_eq!(doc.text_of("B"), Some("1 & 2 A"));
        assert_eq!(doc.text_of("C"), Some(""));
        assert_eq!(doc.text_of("D"), Some("z"));
        assert_eq!(doc.child("E").unwrap().text_of("F"), Some("f"));
        assert_eq!(doc.text_of("a"), None);
    }

    #[test]
    fn refuses_doctype_unknown_entities_and_broken_documents() {
        for bad in [
            "<!DOCTYPE xml [<!ENTITY e \"boom\">]><xml><A>&e;</A></xml>",
            "<xml><A>&e;</A></xml>",
            "<xml><A>&nbsp;</A></xml>",
            "<xml><A>x</B></xml>",
            "<xml><A>x</A>",
            "<xml/><xml/>",
            "<xml></xml>trailing",
            "",
            "   ",
            "</xml>",
        ] {
            assert!(
                matches!(parse_document(bad), Err(MessageError::Malformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn limits_nesting_depth() {
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(parse_document(&deep).is_err());
    }
}
