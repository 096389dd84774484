//! The entry points of flowbot's fuzz targets, over the library's public API only. The AFL
//! binaries (`fuzz_targets/`) call them with AFL's inputs; `tests/fuzz_corpus.rs` of the main
//! crate includes this file and replays every corpus file through them, so a finding fixed
//! stays fixed. Each entry point must never panic on any input; where it checks a property
//! (a round trip), a failed `assert!` is a finding too.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::NaiveDate;
use flowbot::adapters::wecom::crypto::{self, AesKey, CallbackCrypto};
use flowbot::adapters::wecom::{message, userid};
use flowbot::base::directory::{Person, Snapshot, Unit, UnitInfo};
use flowbot::base::normalize::normalize;
use flowbot::base::scripts::{self, FieldKind, Scripts};
use flowbot::dispatch::event::Event;
use flowbot::domain::engine::parse::parse;
use flowbot::domain::engine::{Account, Context};

/// The fuzz targets by name, as `scripts/fuzz` and the corpus folders name them.
pub const TARGETS: &[&str] = &["callback", "crypto", "scripts", "form_input"];

const TOKEN: &str = "fuzztoken";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const CORP_ID: &str = "wwfuzzcorp0000001";

/// What the targets share: the callback crypto, the shipped bot-scripts (their words for the
/// form parsers), a scratch copy of the scripts folder for the scripts target.
pub struct Targets {
    crypto: CallbackCrypto,
    scripts: Scripts,
    /// A copy of `bot-scripts/` whose files the scripts target replaces one at a time.
    scratch: PathBuf,
    /// The files of `scratch` an input may replace, with their shipped text.
    files: Vec<(PathBuf, String)>,
    kinds: Vec<FieldKind>,
    context: Context,
}

impl Targets {
    /// `repository`: the flowbot repository (for its `bot-scripts/`).
    pub fn new(repository: &Path) -> Targets {
        let shipped = repository.join("bot-scripts");
        let scripts = Scripts::load(&shipped).expect("the shipped bot-scripts load");
        static N: AtomicU32 = AtomicU32::new(0);
        let scratch = std::env::temp_dir().join(format!(
            "flowbot-fuzz-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let mut files = Vec::new();
        copy_dir(&shipped, &scratch, &mut files);
        files.sort();
        let key = AesKey::from_encoding_aes_key(AES_KEY).expect("a valid key");
        Targets {
            crypto: CallbackCrypto::new(TOKEN, key, CORP_ID),
            scripts,
            scratch,
            files,
            kinds: field_kinds(),
            context: context(),
        }
    }

    /// Runs the target `name` on `data`.
    pub fn run(&self, name: &str, data: &[u8]) {
        match name {
            "callback" => self.callback(data),
            "crypto" => self.crypto(data),
            "scripts" => self.scripts(data),
            "form_input" => self.form_input(data),
            other => panic!("no fuzz target {other}"),
        }
    }

    /// The callback's body: the envelope, then the decrypted XML as the server parses them; a
    /// parsed message must survive the queue (its payload reads back equal).
    pub fn callback(&self, data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Ok(envelope) = message::parse_envelope(text) {
            let _ = self.crypto.decrypt(&envelope.encrypt);
        }
        let Ok(inbound) = message::parse(text) else {
            return;
        };
        let contact_change = matches!(inbound.kind, message::InboundKind::ChangeContact(_));
        let _ = userid::is_sender(&inbound.from_user, contact_change);
        let _ = inbound.dedupe_key();
        let _ = inbound.conversation();
        let event = Event::WeCom(Box::new(inbound));
        let back = Event::from_payload(&event.to_payload()).expect("a queued event reads back");
        assert_eq!(back, event, "a queued event reads back equal");
    }

    /// The callback crypto: any text as ciphertext, signature parts or key never panics; what
    /// we encrypt decrypts to the same bytes and what we sign verifies.
    pub fn crypto(&self, data: &[u8]) {
        let text = String::from_utf8_lossy(data);
        let _ = self.crypto.decrypt(&text);
        let mut parts = text.splitn(4, '\n');
        let (signature, timestamp, nonce, payload) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        let _ = self.crypto.verify(signature, timestamp, nonce, payload);
        let _ = self
            .crypto
            .verify_and_decrypt(signature, timestamp, nonce, payload);
        if let Ok(key) = AesKey::from_encoding_aes_key(signature) {
            let _ = crypto::decrypt(&key, payload, CORP_ID);
            let _ = crypto::decrypt_raw(&key, payload);
        }
        let _ = crypto::unpad32(data);
        let sealed = self.crypto.encrypt(data);
        let opened = self
            .crypto
            .decrypt(&sealed)
            .expect("our own ciphertext decrypts");
        assert_eq!(opened, data, "a round trip gives the bytes back");
        let signature = self.crypto.sign(timestamp, nonce, &sealed);
        assert!(
            self.crypto
                .verify(&signature, timestamp, nonce, &sealed)
                .is_ok(),
            "our own signature verifies"
        );
    }

    /// The bot-scripts parser and checker: the first byte picks a file of the shipped folder
    /// (bot.toml, a flow, the directory, a calendar year), the rest replaces its text, and the
    /// folder is checked (`flowbot check`) and loaded.
    pub fn scripts(&self, data: &[u8]) {
        let Some((&pick, rest)) = data.split_first() else {
            return;
        };
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        // Every file as shipped first: a run that crashed (under AFL, a forked child) may have
        // left its input in place.
        for (path, shipped) in &self.files {
            std::fs::write(path, shipped).expect("scratch file restored");
        }
        let (path, _) = &self.files[pick as usize % self.files.len()];
        std::fs::write(path, text).expect("scratch file written");
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date");
        let checked = scripts::check_on(&self.scratch, today);
        let loaded = Scripts::load(&self.scratch);
        assert_eq!(
            checked.is_ok(),
            loaded.is_ok(),
            "check and load agree on whether the folder is valid"
        );
    }

    /// Every form input parser (`domain/engine/parse.rs`), one per field type, on the reply as
    /// the engine normalises it.
    pub fn form_input(&self, data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let text = normalize(text);
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date");
        for kind in &self.kinds {
            let _ = parse(kind, &text, &self.scripts.words, &self.context, today);
        }
    }
}

impl Drop for Targets {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// Copies `from` into `to`, noting each `.toml` file with its text.
fn copy_dir(from: &Path, to: &Path, files: &mut Vec<(PathBuf, String)>) {
    std::fs::create_dir_all(to).expect("scratch folder");
    for entry in std::fs::read_dir(from).expect("bot-scripts readable") {
        let entry = entry.expect("bot-scripts entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target, files);
        } else {
            let text = std::fs::read_to_string(entry.path()).expect("bot-scripts file");
            std::fs::write(&target, &text).expect("scratch file");
            if target.extension().is_some_and(|e| e == "toml") {
                files.push((target, text));
            }
        }
    }
}

/// One field of each type, with the bounds a flow may give.
fn field_kinds() -> Vec<FieldKind> {
    let choices = vec![
        "微信公众号".to_owned(),
        "微博".to_owned(),
        "其他".to_owned(),
    ];
    vec![
        FieldKind::Text {
            min_len: 1,
            max_len: 50,
        },
        FieldKind::Choice {
            choices: choices.clone(),
            other: Some("其他".to_owned()),
        },
        FieldKind::Multi { choices },
        FieldKind::YesNo,
        FieldKind::Date,
        FieldKind::Mobile,
        FieldKind::Phone,
        FieldKind::Email,
        FieldKind::Url,
        FieldKind::Integer {
            min: -1_000,
            max: i64::MAX,
        },
        FieldKind::Member,
        FieldKind::Account,
        FieldKind::Unit,
    ]
}

/// A user of two units with two accounts, in a directory with namesakes.
fn context() -> Context {
    let person = |userid: &str, name: &str, unit: &str| Person {
        userid: userid.to_owned(),
        name: name.to_owned(),
        units: vec![unit.to_owned()],
    };
    let unit = |id: &str, name: &str| Unit {
        id: id.to_owned(),
        name: name.to_owned(),
    };
    let units = vec![unit("1", "团委"), unit("2", "工会")];
    let people = vec![
        person("zhangsan", "张三", "1"),
        person("zhangsan2", "张三", "2"),
        person("lisi", "李四", "2"),
    ];
    Context {
        user: people[0].clone(),
        units: units.clone(),
        directory: Arc::new(Snapshot {
            units: units
                .iter()
                .map(|u| UnitInfo {
                    id: u.id.clone(),
                    name: u.name.clone(),
                    leaders: vec!["lisi".to_owned()],
                })
                .collect(),
            people,
        }),
        accounts: vec![
            Account {
                id: "DJ-2026-0001".to_owned(),
                name: "团委微信公众号".to_owned(),
            },
            Account {
                id: "DJ-2026-0002".to_owned(),
                name: "工会微博".to_owned(),
            },
        ],
        propaganda: vec!["lisi".to_owned()],
        case_number: None,
        command: None,
    }
}
