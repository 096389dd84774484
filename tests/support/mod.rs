#![allow(dead_code)]
pub mod bot;
