//! The static directory with a role override, and the engine context built from it. The
//! contacts directory is tested against the fake WeCom in `tests/contacts.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;

fn roles() -> Roles {
    Roles::new(BTreeMap::from([(
        "propaganda".to_owned(),
        "xcb".to_owned().into(),
    )]))
}

fn demo(roles: Roles) -> StaticDirectory {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts/directory.toml");
    StaticDirectory::load(&path, roles).expect("demo directory loads")
}

/// The demo company answers units, leaders and roles; a user in no unit has none.
#[tokio::test]
async fn static_directory_answers_from_the_file() {
    let d = demo(roles());
    let units = d.units_of("zhangwei").await.expect("units");
    let names: Vec<&str> = units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["团委", "工会"]);
    assert!(d.units_of("zhaoliu").await.expect("units").is_empty());
    assert_eq!(d.leaders_of("tw").await.expect("leaders"), ["liuyang"]);
    assert_eq!(
        d.role_members("propaganda").await.expect("role"),
        ["chenjing", "lina"]
    );
    assert!(d.role_members("nobody").await.expect("role").is_empty());
    assert_eq!(
        d.person("ZhangSan").await.expect("person").map(|p| p.name),
        Some("张三".into())
    );
}

/// `FLOWBOT_PROPAGANDA_USERS` (parsed by the caller) replaces the role's members.
#[tokio::test]
async fn propaganda_override_replaces_the_role_members() {
    let users = Roles::parse_userids(" alice, bob ,,carol ");
    assert_eq!(users, ["alice", "bob", "carol"]);
    let d = demo(roles().with_override("propaganda", users));
    assert_eq!(
        d.role_members("propaganda").await.expect("role"),
        ["alice", "bob", "carol"]
    );
    let d = demo(roles().with_override("propaganda", Vec::new()));
    assert_eq!(
        d.role_members("propaganda").await.expect("role"),
        ["chenjing", "lina"]
    );
}

/// A role held by a unit's leaders only (the head of the propaganda department).
#[tokio::test]
async fn a_leaders_role_is_held_by_the_unit_leaders() {
    let head = RoleDef {
        unit: "xcb".into(),
        leaders_only: true,
    };
    let d = demo(Roles::new(BTreeMap::from([("head".to_owned(), head)])));
    assert_eq!(d.role_members("head").await.expect("role"), ["chenjing"]);
}
