//! Foundations every other layer builds on: the bot-scripts model ([`scripts`]) and its
//! [`diagnostics`], the working-day [`calendar`], the company [`clock`], who is who
//! ([`directory`]), text [`normalize`]ation, the lock policy ([`locks`]) and outside values as
//! log fields ([`log_safe`]). Nothing here
//! imports a layer above.

pub mod calendar;
pub mod clock;
pub mod diagnostics;
pub mod directory;
pub mod locks;
pub mod log_safe;
pub mod normalize;
pub mod scripts;
