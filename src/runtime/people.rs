//! Who is who for the running bot: the roles of bot-scripts with the `FLOWBOT_PROPAGANDA_USERS`
//! override, and the static directory (`bot-scripts/directory.toml`), loaded one way for the
//! bot and for the simulator.

use anyhow::Context;

use crate::base::directory::{Roles, StaticDirectory};
use crate::base::scripts::Scripts;
use crate::runtime::config::Settings;

/// The roles of the scripts, the propaganda role overridden when the settings name its members.
pub fn roles(settings: &Settings, scripts: &Scripts) -> Roles {
    Roles::new(scripts.roles.clone()).with_override("propaganda", settings.propaganda_users.clone())
}

/// `directory.toml` of the scripts folder, with the roles; its problems as `file:line` lines.
pub fn static_directory(settings: &Settings, scripts: &Scripts) -> anyhow::Result<StaticDirectory> {
    let path = settings.scripts_dir.join("directory.toml");
    StaticDirectory::load(&path, roles(settings, scripts))
        .map_err(|diagnostics| {
            let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
            anyhow::anyhow!(lines.join("\n"))
        })
        .with_context(|| format!("{} is invalid", path.display()))
}
