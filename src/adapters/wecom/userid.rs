//! WeCom member userids: who may be a sender and a recipient. WeCom documents a userid as 1–64
//! characters of `[0-9A-Za-z_\-.@]`; `@all` is its broadcast address and `|` separates several
//! recipients, so neither is ever one person. Contact-change events come from the system sender
//! `sys`, which is accepted only for them.

/// The `FromUserName` of WeCom's system events (contact changes).
pub const SYSTEM_SENDER: &str = "sys";

/// WeCom's longest userid, in characters (all of them ASCII).
pub const MAX_LEN: usize = 64;

/// True when `id` can name exactly one member: 1–64 characters of WeCom's userid alphabet and
/// not the broadcast address `@all` (any case).
pub fn is_member(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'))
        && !id.eq_ignore_ascii_case("@all")
}

/// True when `id` may send a callback: a member, or `sys` for a contact change.
pub fn is_sender(id: &str, contact_change: bool) -> bool {
    is_member(id) || (contact_change && id == SYSTEM_SENDER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_wecoms_alphabet_and_length() {
        for ok in [
            "zhangsan",
            "u01",
            "Li.Si-2_x",
            "a@b.com",
            "x",
            &"a".repeat(64),
        ] {
            assert!(is_member(ok), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in [
            "", "u01|u02", "@all", "@ALL", &long, "u01\n", "张伟", "a b", "u\u{7}", "a/b",
        ] {
            assert!(!is_member(bad), "{bad:?}");
        }
    }

    #[test]
    fn sys_only_sends_contact_changes() {
        assert!(is_sender("sys", true));
        assert!(is_sender("u01", false));
        assert!(!is_sender("@all", true));
        assert!(!is_sender("u01|sys", true));
    }
}
