//! Many due items for one group chat become one digest message (per unit: what is due, whose,
//! by when), split only when longer than WeCom allows (robot markdown: 4096 bytes).

/// One line of a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestItem {
    pub unit: String,
    /// The rendered line (what, whose, by when).
    pub line: String,
    /// Userids to @-mention.
    pub mention: Vec<String>,
}

/// A message of a digest: its content and the people it mentions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestPart {
    pub content: String,
    pub mention: Vec<String>,
}

/// Groups items by unit (in first-seen order), each unit under its heading, and splits into
/// parts of at most `max_bytes`; a unit's lines stay in order and an item is never split.
pub fn build(
    header: &str,
    unit_heading: impl Fn(&str) -> String,
    items: &[DigestItem],
    max_bytes: usize,
) -> Vec<DigestPart> {
    let mut units: Vec<&str> = Vec::new();
    for item in items {
        if !units.contains(&item.unit.as_str()) {
            units.push(&item.unit);
        }
    }
    let mut parts = Vec::new();
    let mut current = DigestPart {
        content: header.to_owned(),
        mention: Vec::new(),
    };
    for unit in units {
        let heading = unit_heading(unit);
        let mut heading_done = false;
        for item in items.iter().filter(|i| i.unit == unit) {
            let mut piece = String::new();
            if !heading_done {
                piece.push('\n');
                piece.push_str(&heading);
            }
            piece.push('\n');
            piece.push_str(&item.line);
            if current.content.len() + piece.len() > max_bytes
                && current.content.len() > header.len()
            {
                parts.push(std::mem::replace(
                    &mut current,
                    DigestPart {
                        content: header.to_owned(),
                        mention: Vec::new(),
                    },
                ));
                piece = format!("\n{heading}\n{}", item.line);
            }
            heading_done = true;
            current.content.push_str(&piece);
            for m in &item.mention {
                if !current.mention.contains(m) {
                    current.mention.push(m.clone());
                }
            }
        }
    }
    if current.content.len() > header.len() {
        parts.push(current);
    }
    parts
}
