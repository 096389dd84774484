//! The work circle (新媒体矩阵工作圈, policy 3.3.5): one app group chat of the administrators of
//! every account in use, with an owner from the department. What the bot keeps of it, who should
//! be in it, and what to ask WeCom to bring it there. Pure.

use serde::{Deserialize, Serialize};

/// The circle as the bot keeps it (stored like a case under [`RECORD`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Circle {
    /// Whether `appchat/create` was asked for.
    #[serde(default)]
    pub created: bool,
    /// Who the bot last put in it.
    #[serde(default)]
    pub members: Vec<String>,
    /// Members who left the company (WeCom's contact change): kept out even while an account
    /// still names them, until its change report replaces them.
    #[serde(default)]
    pub departed: Vec<String>,
}

/// Where the circle is kept.
pub const RECORD: &str = "circle:work";

/// What brings the circle to the wanted members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CircleChange {
    /// Create the chat with these members (the owner first).
    Create(Vec<String>),
    /// Add and remove members.
    Update {
        add: Vec<String>,
        remove: Vec<String>,
    },
}

/// Who should be in the circle: the owner, then each administrator once (in the order given)
/// who has not left.
pub fn wanted(circle: &Circle, owner: &str, admins: &[String]) -> Vec<String> {
    let mut members = vec![owner.to_owned()];
    for admin in admins {
        if !members.contains(admin) && !circle.departed.contains(admin) {
            members.push(admin.clone());
        }
    }
    members
}

/// The change that brings `circle` to `wanted`; `None` when there is nothing to do, or when a
/// chat not yet created would have fewer than the two members WeCom requires.
pub fn change(circle: &Circle, wanted: &[String]) -> Option<CircleChange> {
    if !circle.created {
        return (wanted.len() >= 2).then(|| CircleChange::Create(wanted.to_vec()));
    }
    let add: Vec<String> = wanted
        .iter()
        .filter(|m| !circle.members.contains(m))
        .cloned()
        .collect();
    let remove: Vec<String> = circle
        .members
        .iter()
        .filter(|m| !wanted.contains(m))
        .cloned()
        .collect();
    (!add.is_empty() || !remove.is_empty()).then_some(CircleChange::Update { add, remove })
}

/// `circle` once `change` is asked for.
pub fn applied(mut circle: Circle, wanted: &[String]) -> Circle {
    circle.created = circle.created || wanted.len() >= 2;
    if circle.created {
        circle.members = wanted.to_vec();
    }
    circle
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_circle_is_created_once_two_members_are_wanted_then_follows_the_register() {
        let empty = Circle::default();
        let alone = wanted(&empty, "chenjing", &[]);
        assert_eq!(change(&empty, &alone), None, "WeCom needs two members");
        let first = wanted(
            &empty,
            "chenjing",
            &ids(&["zhangsan", "chenjing", "zhangsan"]),
        );
        assert_eq!(first, ids(&["chenjing", "zhangsan"]));
        assert_eq!(
            change(&empty, &first),
            Some(CircleChange::Create(first.clone()))
        );
        let circle = applied(empty, &first);
        assert!(circle.created);
        assert_eq!(change(&circle, &first), None);
        let next = wanted(&circle, "chenjing", &ids(&["zhangwei"]));
        assert_eq!(
            change(&circle, &next),
            Some(CircleChange::Update {
                add: ids(&["zhangwei"]),
                remove: ids(&["zhangsan"])
            })
        );
    }

    #[test]
    fn who_left_stays_out() {
        let circle = Circle {
            created: true,
            members: ids(&["chenjing", "zhangsan"]),
            departed: ids(&["zhangsan"]),
        };
        let want = wanted(&circle, "chenjing", &ids(&["zhangsan"]));
        assert_eq!(want, ids(&["chenjing"]));
        assert_eq!(
            change(&circle, &want),
            Some(CircleChange::Update {
                add: vec![],
                remove: ids(&["zhangsan"])
            })
        );
    }
}
