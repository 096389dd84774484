//! Every published WeCom crypto vector (tests/fixtures/wecom-test-vectors.json, groups A–G),
//! run against `flowbot::adapters::wecom::crypto`, plus encrypt/decrypt round-trip properties.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use base64::Engine as _;
use flowbot::adapters::wecom::crypto::{
    AesKey, CallbackCrypto, CryptoError, decrypt, decrypt_raw, encrypt, reply_xml, signature,
    unpad32,
};
use proptest::prelude::*;
use serde_json::Value;

fn vectors() -> &'static [Value] {
    static VECTORS: OnceLock<Vec<Value>> = OnceLock::new();
    VECTORS.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/wecom-test-vectors.json"
        );
        let text = std::fs::read_to_string(path).expect("read test vectors");
        let doc: Value = serde_json::from_str(&text).expect("parse test vectors");
        doc["vectors"].as_array().expect("vectors array").clone()
    })
}

fn vector(name: &str) -> &'static Value {
    vectors()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{}: missing string field {field}", v["name"]))
}

fn crypto_of(v: &Value) -> CallbackCrypto {
    let key = AesKey::from_encoding_aes_key(s(v, "encoding_aes_key")).expect("valid key");
    CallbackCrypto::new(s(v, "token"), key, s(v, "receiveid"))
}

/// Decodes `%XX` escapes once (enough for the query values WeCom sends).
fn percent_decode_once(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Checks the raw (still padded) plaintext against the layout facts a vector states.
fn check_layout(v: &Value, key: &AesKey, payload: &str) {
    let exp = &v["expected"];
    let raw = decrypt_raw(key, payload).expect("raw decrypt");
    let pad = usize::from(*raw.last().unwrap());
    if let Some(want) = exp["pad"].as_u64() {
        assert_eq!(pad as u64, want, "{}: pad", v["name"]);
    }
    assert!(
        raw[raw.len() - pad..]
            .iter()
            .all(|&b| usize::from(b) == pad)
    );
    assert_eq!(raw.len() % 32, 0, "{}: padded to 32", v["name"]);
    if let Some(want) = exp["cipher_len"].as_u64() {
        assert_eq!(raw.len() as u64, want, "{}: cipher_len", v["name"]);
    }
    if let Some(want) = exp["random_prefix"].as_str() {
        assert_eq!(&raw[..16], want.as_bytes(), "{}: random_prefix", v["name"]);
    }
    let msg_len = u32::from_be_bytes(raw[16..20].try_into().unwrap()) as usize;
    if let Some(want) = exp["msg_len"].as_u64() {
        assert_eq!(msg_len as u64, want, "{}: msg_len", v["name"]);
    }
    let msg = s(exp, "msg").as_bytes();
    assert_eq!(&raw[20..20 + msg_len], msg, "{}: msg bytes", v["name"]);
    let trailing = &raw[20 + msg_len..raw.len() - pad];
    let want_rid = exp["receiveid"]
        .as_str()
        .or(exp["decrypted_receiveid"].as_str());
    if let Some(want) = want_rid {
        assert_eq!(
            trailing,
            want.as_bytes(),
            "{}: trailing receiveid",
            v["name"]
        );
    }
}

/// Runs one vector according to its `kind`; panics on any disagreement.
fn run_vector(v: &Value) {
    let name = s(v, "name");
    let exp = &v["expected"];
    match s(v, "kind") {
        "verify_url" | "decrypt_message" | "decrypt_message_json" => {
            let payload = v["echostr"].as_str().unwrap_or_else(|| s(v, "encrypt"));
            if let Some(raw) = v["echostr_urlencoded"].as_str() {
                assert_eq!(percent_decode_once(raw), payload, "{name}: one URL-decode");
            }
            if let Some(body) = v["request_body"].as_str() {
                let body: Value = serde_json::from_str(body).unwrap();
                assert_eq!(body["encrypt"], payload, "{name}: body carries encrypt");
            }
            let c = crypto_of(v);
            assert_eq!(
                c.sign(s(v, "timestamp"), s(v, "nonce"), payload),
                s(v, "msg_signature")
            );
            let msg = c
                .verify_and_decrypt(
                    s(v, "msg_signature"),
                    s(v, "timestamp"),
                    s(v, "nonce"),
                    payload,
                )
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            // Byte comparison (C1's msg is deliberately malformed JSON).
            assert_eq!(msg, s(exp, "msg").as_bytes(), "{name}: msg");
            let key = AesKey::from_encoding_aes_key(s(v, "encoding_aes_key")).unwrap();
            check_layout(v, &key, payload);
        }
        "signature" => {
            let sig = signature(
                s(v, "token"),
                s(v, "timestamp"),
                s(v, "nonce"),
                s(v, "echostr"),
            );
            assert_eq!(sig, s(v, "msg_signature"), "{name}");
        }
        "decrypt" => {
            let key = AesKey::from_encoding_aes_key(s(v, "encoding_aes_key")).unwrap();
            let msg = decrypt(&key, s(v, "echostr"), s(v, "receiveid")).unwrap();
            assert_eq!(msg, s(exp, "msg").as_bytes(), "{name}");
            check_layout(v, &key, s(v, "echostr"));
        }
        "encrypt" | "encrypt_message" => {
            let key = AesKey::from_encoding_aes_key(s(v, "encoding_aes_key")).unwrap();
            let random: [u8; 16] = s(v, "random_prefix").as_bytes().try_into().unwrap();
            let msg = s(v, "msg").as_bytes();
            if let Some(len) = v["msg_len"].as_u64() {
                assert_eq!(msg.len() as u64, len, "{name}: msg_len");
            }
            let enc = encrypt(&key, random, msg, s(v, "receiveid"));
            assert_eq!(enc, s(exp, "encrypt"), "{name}: encrypt");
            assert_eq!(decrypt(&key, &enc, s(v, "receiveid")).unwrap(), msg);
            if let Some(want_sig) = exp["msg_signature"].as_str() {
                let (ts, nonce) = (s(v, "timestamp"), s(v, "nonce"));
                assert_eq!(signature(s(v, "token"), ts, nonce, &enc), want_sig);
                let c = crypto_of(v);
                let xml = c.encrypt_reply_with_random(random, msg, ts, nonce);
                assert_eq!(xml, reply_xml(s(exp, "encrypt"), want_sig, ts, nonce));
                assert_eq!(
                    xml,
                    format!(
                        "<xml><Encrypt><![CDATA[{}]]></Encrypt><MsgSignature><![CDATA[{want_sig}]]>\
                         </MsgSignature><TimeStamp>{ts}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>",
                        s(exp, "encrypt")
                    )
                );
            }
        }
        "negative" => run_negative(v),
        other => panic!("{name}: unknown vector kind {other}"),
    }
}

fn assert_code(v: &Value, err: &CryptoError) {
    match &v["expected"]["official_code"] {
        Value::Number(n) => assert_eq!(i64::from(err.code()), n.as_i64().unwrap()),
        Value::Array(codes) => assert!(
            codes
                .iter()
                .any(|c| c.as_i64() == Some(i64::from(err.code()))),
            "{}: code {} not in {codes:?}",
            v["name"],
            err.code()
        ),
        _ => {}
    }
}

fn run_negative(v: &Value) {
    let name = s(v, "name");
    let payload = || v["echostr"].as_str().unwrap_or_else(|| s(v, "encrypt"));
    match s(&v["expected"], "error") {
        "bad_signature" => {
            let err = crypto_of(v)
                .verify_and_decrypt(
                    s(v, "msg_signature"),
                    s(v, "timestamp"),
                    s(v, "nonce"),
                    payload(),
                )
                .unwrap_err();
            assert_eq!(err, CryptoError::InvalidSignature, "{name}");
            assert_code(v, &err);
        }
        "receiveid_mismatch" => {
            let c = crypto_of(v);
            c.verify(
                s(v, "msg_signature"),
                s(v, "timestamp"),
                s(v, "nonce"),
                payload(),
            )
            .expect("signature is valid");
            let err = c.decrypt(payload()).unwrap_err();
            assert_eq!(err, CryptoError::ReceiveIdMismatch, "{name}");
            assert_code(v, &err);
            let key = AesKey::from_encoding_aes_key(s(v, "encoding_aes_key")).unwrap();
            let raw = decrypt_raw(&key, payload()).unwrap();
            let rid = s(&v["expected"], "decrypted_receiveid").as_bytes();
            let pad = usize::from(*raw.last().unwrap());
            assert!(
                raw[..raw.len() - pad].ends_with(rid),
                "{name}: actual receiveid"
            );
        }
        "bad_key" => {
            let key = s(v, "encoding_aes_key");
            let err = AesKey::from_encoding_aes_key(key).unwrap_err();
            assert_eq!(err, CryptoError::IllegalAesKey, "{name}");
            assert_code(v, &err);
            assert!(
                !err.to_string().contains(key),
                "{name}: key leaked in error"
            );
        }
        "decrypt_failed" => {
            let c = crypto_of(v);
            c.verify(
                s(v, "msg_signature"),
                s(v, "timestamp"),
                s(v, "nonce"),
                payload(),
            )
            .expect("signature recomputed over the mutated payload");
            let err = c.decrypt(payload()).unwrap_err();
            assert!(
                matches!(err, CryptoError::DecryptAes | CryptoError::IllegalBuffer(_)),
                "{name}: {err:?}"
            );
            assert_code(v, &err);
        }
        "bad_padding" => {
            // Our 32-byte unpadder decrypts the base vector exactly as A1 …
            let c = crypto_of(v);
            let msg = c
                .verify_and_decrypt(
                    s(v, "msg_signature"),
                    s(v, "timestamp"),
                    s(v, "nonce"),
                    payload(),
                )
                .unwrap();
            assert_eq!(msg, s(&vector(s(v, "base"))["expected"], "msg").as_bytes());
            let want_pad = v["expected"]["pad"].as_u64().unwrap();
            let key = AesKey::from_encoding_aes_key(s(v, "encoding_aes_key")).unwrap();
            assert_eq!(
                u64::from(*decrypt_raw(&key, payload()).unwrap().last().unwrap()),
                want_pad
            );
            // … while a standard 16-byte-block PKCS#7 unpadder (the cbc crate's) rejects it.
            assert!(decrypt_with_16_byte_pkcs7(s(v, "encoding_aes_key"), payload()).is_err());
        }
        other => panic!("{name}: unknown error class {other}"),
    }
}

/// Independent decryption with the `cbc` crate's standard (16-byte block) PKCS#7 unpadding.
fn decrypt_with_16_byte_pkcs7(encoding_aes_key: &str, payload: &str) -> Result<Vec<u8>, ()> {
    use cbc::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let key = engine.decode(format!("{encoding_aes_key}=")).unwrap();
    let mut buf = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .unwrap();
    cbc::Decryptor::<aes::Aes256>::new_from_slices(&key, &key[..16])
        .unwrap()
        .decrypt_padded_mut::<Pkcs7>(&mut buf)
        .map(<[u8]>::to_vec)
        .map_err(|_| ())
}

macro_rules! vector_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(#[test] fn $test() { run_vector(vector($name)); })*
        const COVERED: &[&str] = &[$($name),*];
    };
}

vector_tests! {
    a1_doc_decrypt_message => "A1_doc_decrypt_message",
    a2_php_sample_verify_url => "A2_php_sample_verify_url",
    b1_python_sample_verify_url => "B1_python_sample_verify_url",
    b2_python_sample_decrypt_message => "B2_python_sample_decrypt_message",
    c1_json_sample_decrypt_message => "C1_json_sample_decrypt_message",
    d1_wechatpy_check_signature => "D1_wechatpy_check_signature",
    d2_wechatpy_check_signature_wrong_nonce => "D2_wechatpy_check_signature_wrong_nonce",
    d3_wechatpy_decrypt_message => "D3_wechatpy_decrypt_message",
    d4_wechatpy_encrypt_message => "D4_wechatpy_encrypt_message",
    e1_goworkwx_signature => "E1_goworkwx_signature",
    e2_goworkwx_decrypt_echostr => "E2_goworkwx_decrypt_echostr",
    e3_goworkwx_envelope_decrypt_message => "E3_goworkwx_envelope_decrypt_message",
    e4_goworkwx_key_len_42 => "E4_goworkwx_key_len_42",
    e5_goworkwx_key_len_44 => "E5_goworkwx_key_len_44",
    e6_goworkwx_key_stray_equals => "E6_goworkwx_key_stray_equals",
    e7_goworkwx_key_illegal_char => "E7_goworkwx_key_illegal_char",
    f1_wxjava_encrypt => "F1_wxjava_encrypt",
    g1_bad_signature => "G1_bad_signature",
    g2_receiveid_mismatch => "G2_receiveid_mismatch",
    g3_key_len_42 => "G3_key_len_42",
    g4_key_len_44 => "G4_key_len_44",
    g5_truncated_ciphertext => "G5_truncated_ciphertext",
    g6_16_byte_pkcs7_unpad_regression => "G6_16_byte_pkcs7_unpad_regression",
}

#[test]
fn every_vector_in_the_fixture_has_a_test() {
    let in_file: BTreeSet<&str> = vectors().iter().map(|v| s(v, "name")).collect();
    let covered: BTreeSet<&str> = COVERED.iter().copied().collect();
    assert_eq!(in_file, covered);
    assert_eq!(in_file.len(), 23);
}

#[test]
fn doc_key_needs_lenient_base64() {
    let key = s(vector("A1_doc_decrypt_message"), "encoding_aes_key");
    // A strict engine rejects the official doc key (non-zero spare bits) …
    assert!(
        base64::engine::general_purpose::STANDARD
            .decode(format!("{key}="))
            .is_err()
    );
    // … which is why ours must accept it.
    assert!(AesKey::from_encoding_aes_key(key).is_ok());
}

#[test]
fn signature_is_lowercase_hex_and_checked_exactly() {
    let v = vector("A1_doc_decrypt_message");
    let c = crypto_of(v);
    let (ts, nonce, enc) = (s(v, "timestamp"), s(v, "nonce"), s(v, "encrypt"));
    let upper = s(v, "msg_signature").to_uppercase();
    assert_eq!(
        c.verify(&upper, ts, nonce, enc),
        Err(CryptoError::InvalidSignature)
    );
    assert_eq!(
        c.verify("", ts, nonce, enc),
        Err(CryptoError::InvalidSignature)
    );
    let short = &s(v, "msg_signature")[..39];
    assert_eq!(
        c.verify(short, ts, nonce, enc),
        Err(CryptoError::InvalidSignature)
    );
    // Sorting matters: the same values in another argument order give the same signature.
    assert_eq!(signature(nonce, enc, "QDG6eK", ts), s(v, "msg_signature"));
}

#[test]
fn malformed_ciphertexts_are_errors_not_panics() {
    let v = vector("A1_doc_decrypt_message");
    let c = crypto_of(v);
    assert_eq!(c.decrypt("not base64!"), Err(CryptoError::DecodeBase64));
    assert_eq!(c.decrypt(""), Err(CryptoError::DecryptAes));
    // One full block: decrypts, but its padding or layout cannot be valid for this key.
    let block = base64::engine::general_purpose::STANDARD.encode([0u8; 16]);
    assert!(matches!(
        c.decrypt(&block),
        Err(CryptoError::IllegalBuffer(_))
    ));
    // Random-looking 32-byte-aligned garbage never panics.
    for seed in 0u8..64 {
        let junk: Vec<u8> = (0..64u8)
            .map(|i| i.wrapping_mul(31).wrapping_add(seed))
            .collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(junk);
        assert!(c.decrypt(&b64).is_err());
    }
}

#[test]
fn length_field_is_bounds_checked() {
    // Plaintext whose length field claims more bytes than exist (a wrong key typically does this).
    use cbc::cipher::{BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
    let v = vector("A1_doc_decrypt_message");
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let key = engine
        .decode(format!("{}=", s(v, "encoding_aes_key")))
        .unwrap();
    let mut plain = vec![b'r'; 16];
    plain.extend_from_slice(&1000u32.to_be_bytes());
    plain.extend_from_slice(b"short");
    let pad = 32 - plain.len() % 32;
    plain.resize(plain.len() + pad, pad as u8);
    let len = plain.len();
    let cipher = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &key[..16])
        .unwrap()
        .encrypt_padded_mut::<NoPadding>(&mut plain, len)
        .unwrap()
        .to_vec();
    let b64 = base64::engine::general_purpose::STANDARD.encode(cipher);
    let err = crypto_of(v).decrypt(&b64).unwrap_err();
    assert!(matches!(err, CryptoError::IllegalBuffer(_)), "{err:?}");
    assert_eq!(err.code(), -40008);
}

#[test]
fn unpad32_requires_every_pad_byte_to_match() {
    assert_eq!(unpad32(&[9, 4, 4, 4, 4]).unwrap(), &[9]);
    assert!(unpad32(&[9, 4, 3, 4, 4]).is_err());
    assert_eq!(unpad32(&[32; 32]).unwrap(), &[] as &[u8]);
    assert!(unpad32(&[33; 64]).is_err());
    assert!(unpad32(&[5, 0]).is_err());
}

#[test]
fn receiveid_is_never_trimmed() {
    let v = vector("A1_doc_decrypt_message");
    let key = AesKey::from_encoding_aes_key(s(v, "encoding_aes_key")).unwrap();
    let enc = encrypt(&key, *b"0123456789abcdef", b"hi", "wwcorp ");
    assert_eq!(
        decrypt(&key, &enc, "wwcorp"),
        Err(CryptoError::ReceiveIdMismatch)
    );
    assert_eq!(decrypt(&key, &enc, "wwcorp ").unwrap(), b"hi");
}

#[test]
fn encrypt_reply_round_trips_and_verifies() {
    let v = vector("D4_wechatpy_encrypt_message");
    let c = crypto_of(v);
    let xml = c.encrypt_reply(b"<xml>reply</xml>", "1411525903", "461056294");
    let grab = |tag: &str| {
        let start = xml.find(&format!("<{tag}>")).unwrap() + tag.len() + 2;
        let end = xml.find(&format!("</{tag}>")).unwrap();
        let inner = &xml[start..end];
        inner
            .strip_prefix("<![CDATA[")
            .and_then(|x| x.strip_suffix("]]>"))
            .unwrap_or(inner)
            .to_owned()
    };
    let (enc, sig) = (grab("Encrypt"), grab("MsgSignature"));
    assert_eq!(grab("TimeStamp"), "1411525903");
    assert_eq!(grab("Nonce"), "461056294");
    let msg = c
        .verify_and_decrypt(&sig, "1411525903", "461056294", &enc)
        .unwrap();
    assert_eq!(msg, b"<xml>reply</xml>");
    // Fresh random bytes each time.
    assert_ne!(c.encrypt(b"x"), c.encrypt(b"x"));
}

fn alnum_key() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{43}"
}

fn corp_id() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "w[wx][0-9a-f]{16}",
        "[ -~]{0,40}",
        "\\PC{0,12}"
    ]
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        any::<u8>().prop_map(|b| vec![b]),
        Just("我是中文abcd123 — ünïcödé 🚀".as_bytes().to_vec()),
        Just(vec![0xA5; 64 * 1024]),
        "\\PC{0,200}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..1200),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn encrypt_then_decrypt_round_trips(
        key in alnum_key(),
        corp in corp_id(),
        other in corp_id(),
        random in any::<[u8; 16]>(),
        msg in message(),
    ) {
        let key = AesKey::from_encoding_aes_key(&key).expect("every 43-char alphanumeric key is valid");
        let enc = encrypt(&key, random, &msg, &corp);
        prop_assert_eq!(decrypt(&key, &enc, &corp), Ok(msg.clone()));
        let raw = decrypt_raw(&key, &enc).unwrap();
        prop_assert_eq!(raw.len() % 32, 0);
        prop_assert_eq!(&raw[..16], &random[..]);
        prop_assume!(other != corp);
        prop_assert_eq!(decrypt(&key, &enc, &other), Err(CryptoError::ReceiveIdMismatch));
    }

    #[test]
    fn callback_crypto_round_trips(key in alnum_key(), corp in corp_id(), msg in message()) {
        let key = AesKey::from_encoding_aes_key(&key).unwrap();
        let c = CallbackCrypto::new("token", key.clone(), &corp);
        let enc = c.encrypt(&msg);
        let sig = c.sign("1700000000", "nonce", &enc);
        prop_assert_eq!(c.verify_and_decrypt(&sig, "1700000000", "nonce", &enc), Ok(msg));
        let wrong = CallbackCrypto::new("token", key, &format!("{corp}x"));
        prop_assert_eq!(wrong.decrypt(&enc), Err(CryptoError::ReceiveIdMismatch));
    }

    #[test]
    fn wrong_length_or_charset_keys_are_rejected(key in "[A-Za-z0-9=+/$ ]{0,50}") {
        let valid = key.len() == 43 && key.bytes().all(|b| b.is_ascii_alphanumeric());
        prop_assert_eq!(AesKey::from_encoding_aes_key(&key).is_ok(), valid);
    }
}

#[test]
fn explicit_round_trip_cases() {
    let key =
        AesKey::from_encoding_aes_key(s(vector("F1_wxjava_encrypt"), "encoding_aes_key")).unwrap();
    let cases: [&[u8]; 4] = [b"", b"x", "中文 ✓ 🚀".as_bytes(), &[0x5A; 64 * 1024]];
    for msg in cases {
        let enc = encrypt(&key, [7; 16], msg, "wwcorp");
        assert_eq!(decrypt(&key, &enc, "wwcorp").unwrap(), msg);
        assert_eq!(
            decrypt(&key, &enc, "wwcorq"),
            Err(CryptoError::ReceiveIdMismatch)
        );
    }
}
