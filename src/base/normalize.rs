//! Normalising what users type: full-width letters and digits (common with Chinese input
//! methods), the ideographic space and stray spaces. Free text keeps its Chinese punctuation;
//! structured answers and control words also get full-width punctuation folded to ASCII.

/// Full-width digits/letters → ASCII, any whitespace → one space, trimmed.
pub fn normalize(s: &str) -> String {
    fold(s, false)
}

/// Like [`normalize`], and full-width punctuation (`，：（）－＠`…) → ASCII as well.
pub fn ascii(s: &str) -> String {
    fold(s, true)
}

/// A matching key: [`ascii`], ASCII lower case, no spaces at all. Used for control words,
/// keywords, choices and field labels.
pub fn key(s: &str) -> String {
    ascii(s)
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn fold(s: &str, punct: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        let c = match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            '\u{FF01}'..='\u{FF5E}' if punct => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3002}' if punct => '.',
            '\u{3001}' if punct => ',',
            c if c.is_whitespace() => ' ',
            c => c,
        };
        if c == ' ' {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_spaces_are_folded() {
        assert_eq!(
            normalize("  １３８\u{3000}００１３  ８０００ "),
            "138 0013 8000"
        );
        assert_eq!(normalize("宣传，发布"), "宣传，发布");
        assert_eq!(ascii("ａ＠ｂ．ｃｏｍ"), "a@b.com");
        assert_eq!(key(" 修改　账号 名称 "), "修改账号名称");
        assert_eq!(key("ＹＥＳ"), "yes");
    }
}
