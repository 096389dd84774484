//! Foundations every other layer builds on: the bot-scripts model ([`scripts`]) and its
//! [`diagnostics`], the working-day [`calendar`], the company [`clock`], who is who
//! ([`directory`]), text [`normalize`]ation and the lock policy ([`locks`]). Nothing here
//! imports a layer above.

pub mod calendar;
pub mod clock;
pub mod diagnostics;
pub mod directory;
pub mod locks;
pub mod normalize;
pub mod scripts;
