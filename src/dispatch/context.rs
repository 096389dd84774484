//! What the form engine knows of the user for one step, resolved from the directory.

use crate::base::directory::{Directory, DirectoryError, Person};
use crate::domain::engine::Context;

/// Builds the engine's [`Context`] for one user: the person (an unknown userid becomes a
/// person in no unit, whom unit-only flows refuse), their units, the snapshot and the
/// `propaganda` role. Accounts are left empty (the caller adds the unit's registered ones); the
/// case number is unset.
pub async fn engine_context(dir: &dyn Directory, userid: &str) -> Result<Context, DirectoryError> {
    let user = dir.person(userid).await?.unwrap_or_else(|| Person {
        userid: userid.to_owned(),
        name: userid.to_owned(),
        units: Vec::new(),
    });
    Ok(Context {
        units: dir.units_of(userid).await?,
        user,
        directory: dir.snapshot().await?,
        accounts: Vec::new(),
        propaganda: dir.role_members("propaganda").await?,
        case_number: None,
        command: None,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::base::directory::{Roles, StaticDirectory};

    fn demo() -> StaticDirectory {
        let roles = Roles::new(BTreeMap::from([(
            "propaganda".to_owned(),
            "xcb".to_owned().into(),
        )]));
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bot-scripts/directory.toml");
        StaticDirectory::load(&path, roles).expect("demo directory loads")
    }

    /// The engine context for a user comes from the directory; an unknown user has no unit.
    #[tokio::test]
    async fn engine_context_is_built_from_the_directory() {
        let d = demo();
        let ctx = engine_context(&d, "zhangwei").await.expect("context");
        assert_eq!(ctx.user.name, "张伟");
        assert_eq!(ctx.units.len(), 2);
        assert_eq!(ctx.propaganda, ["chenjing", "lina"]);
        assert!(ctx.case_number.is_none());
        let ghost = engine_context(&d, "ghost").await.expect("context");
        assert!(ghost.units.is_empty() && ghost.user.units.is_empty());
    }
}
