//! WeCom callback crypto (pure, no I/O): `msg_signature`, AES-256-CBC with WeCom's 32-byte
//! PKCS#7 padding, the `random16 ‖ be_u32(len) ‖ msg ‖ receiveid` plaintext layout, and the
//! encrypted passive-reply envelope.
//!
//! Secrets (the token and the AES key) never appear in `Debug` output or in error messages.

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// Errors, each mapped to the code the official libraries use (logs speak their vocabulary).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("signature mismatch (-40001)")]
    InvalidSignature,
    #[error("EncodingAESKey must be 43 characters of base64 decoding to 32 bytes (-40004)")]
    IllegalAesKey,
    #[error("receiveid does not match the corp id (-40005)")]
    ReceiveIdMismatch,
    #[error("AES decryption failed (-40007)")]
    DecryptAes,
    #[error("decrypted buffer malformed: {0} (-40008)")]
    IllegalBuffer(&'static str),
    #[error("base64 decoding failed (-40010)")]
    DecodeBase64,
}

impl CryptoError {
    /// The code of the official WeCom crypto libraries.
    pub fn code(&self) -> i32 {
        match self {
            CryptoError::InvalidSignature => -40001,
            CryptoError::IllegalAesKey => -40004,
            CryptoError::ReceiveIdMismatch => -40005,
            CryptoError::DecryptAes => -40007,
            CryptoError::IllegalBuffer(_) => -40008,
            CryptoError::DecodeBase64 => -40010,
        }
    }
}

/// WeCom pads to a multiple of 32 bytes, not to the 16-byte AES block.
pub const PAD_BLOCK: usize = 32;

/// Length of the random prefix of every plaintext.
const RANDOM_LEN: usize = 16;

/// Length of an EncodingAESKey.
const ENCODING_AES_KEY_LEN: usize = 43;

/// Base64 that tolerates non-zero spare bits in the last symbol, as Python, Java and Go do:
/// five of six published EncodingAESKeys have them set.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

type Aes256CbcDec = cbc::Decryptor<Aes256>;
type Aes256CbcEnc = cbc::Encryptor<Aes256>;

/// `sha1_hex_lower(concat(sort_bytewise([token, timestamp, nonce, payload])))`.
pub fn signature(token: &str, timestamp: &str, nonce: &str, payload: &str) -> String {
    let mut parts = [token, timestamp, nonce, payload];
    // `str`'s `Ord` is byte-wise lexicographic order.
    parts.sort_unstable();
    let mut hasher = Sha1::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The 32-byte AES key decoded from a 43-character EncodingAESKey (trailing bits tolerated).
#[derive(Clone)]
pub struct AesKey([u8; 32]);

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey(<redacted>)")
    }
}

impl AesKey {
    /// Decodes `base64(encoding_aes_key + "=")`. The key must be exactly 43 characters of
    /// `[A-Za-z0-9]` and decode to 32 bytes, else [`CryptoError::IllegalAesKey`].
    pub fn from_encoding_aes_key(encoding_aes_key: &str) -> Result<Self, CryptoError> {
        if encoding_aes_key.len() != ENCODING_AES_KEY_LEN
            || !encoding_aes_key.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(CryptoError::IllegalAesKey);
        }
        let mut padded = String::with_capacity(ENCODING_AES_KEY_LEN + 1);
        padded.push_str(encoding_aes_key);
        padded.push('=');
        let bytes = LENIENT_BASE64
            .decode(padded.as_bytes())
            .map_err(|_| CryptoError::IllegalAesKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::IllegalAesKey)?;
        Ok(Self(key))
    }

    /// The IV WeCom uses: the first 16 bytes of the key.
    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.0[..16]);
        iv
    }
}

/// AES-256-CBC-decrypts a base64 payload WITHOUT removing any padding: the raw plaintext
/// `random16 ‖ be_u32(len) ‖ msg ‖ receiveid ‖ pad`. Useful for diagnostics and tests;
/// [`decrypt`] is what callers normally want.
pub fn decrypt_raw(key: &AesKey, payload_b64: &str) -> Result<Vec<u8>, CryptoError> {
    let mut buf = STANDARD
        .decode(payload_b64.as_bytes())
        .map_err(|_| CryptoError::DecodeBase64)?;
    if buf.is_empty() || buf.len() % 16 != 0 {
        return Err(CryptoError::DecryptAes);
    }
    let len = Aes256CbcDec::new(&key.0.into(), &key.iv().into())
        .decrypt_padded_mut::<NoPadding>(&mut buf)
        .map_err(|_| CryptoError::DecryptAes)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// Removes WeCom's PKCS#7 padding to a 32-byte multiple: the pad value must be `1..=32`,
/// no longer than the buffer, and every pad byte must carry it.
pub fn unpad32(plain: &[u8]) -> Result<&[u8], CryptoError> {
    let pad = usize::from(*plain.last().ok_or(CryptoError::IllegalBuffer("empty"))?);
    if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
        return Err(CryptoError::IllegalBuffer("bad padding"));
    }
    let (body, padding) = plain.split_at(plain.len() - pad);
    if padding.iter().any(|&b| usize::from(b) != pad) {
        return Err(CryptoError::IllegalBuffer("bad padding"));
    }
    Ok(body)
}

/// AES-256-CBC (IV = key[..16]) + 32-byte PKCS#7 + plaintext layout. Pure.
pub fn decrypt(
    key: &AesKey,
    payload_b64: &str,
    expected_receive_id: &str,
) -> Result<Vec<u8>, CryptoError> {
    let plain = decrypt_raw(key, payload_b64)?;
    let body = unpad32(&plain)?;
    if body.len() < RANDOM_LEN + 4 {
        return Err(CryptoError::IllegalBuffer("too short"));
    }
    let rest = &body[RANDOM_LEN..];
    let (len_bytes, rest) = rest.split_at(4);
    let msg_len = u32::from_be_bytes(len_bytes.try_into().expect("split_at(4) gives 4 bytes"));
    let msg_len = usize::try_from(msg_len).map_err(|_| CryptoError::IllegalBuffer("bad length"))?;
    if msg_len > rest.len() {
        return Err(CryptoError::IllegalBuffer("length out of range"));
    }
    let (msg, receive_id) = rest.split_at(msg_len);
    // Byte-for-byte, never trimmed.
    if receive_id != expected_receive_id.as_bytes() {
        return Err(CryptoError::ReceiveIdMismatch);
    }
    Ok(msg.to_vec())
}

/// Encrypts `msg` for `receive_id` with the given 16 random bytes; returns standard base64.
///
/// # Panics
/// If `msg` is 4 GiB or longer (the length field is a `u32`).
pub fn encrypt(key: &AesKey, random: [u8; 16], msg: &[u8], receive_id: &str) -> String {
    let msg_len = u32::try_from(msg.len()).expect("message longer than u32::MAX bytes");
    let unpadded = RANDOM_LEN + 4 + msg.len() + receive_id.len();
    let pad = PAD_BLOCK - unpadded % PAD_BLOCK;
    let mut buf = Vec::with_capacity(unpadded + pad);
    buf.extend_from_slice(&random);
    buf.extend_from_slice(&msg_len.to_be_bytes());
    buf.extend_from_slice(msg);
    buf.extend_from_slice(receive_id.as_bytes());
    let pad_byte = u8::try_from(pad).expect("pad is at most 32");
    buf.resize(unpadded + pad, pad_byte);
    let total = buf.len();
    let cipher = Aes256CbcEnc::new(&key.0.into(), &key.iv().into())
        .encrypt_padded_mut::<NoPadding>(&mut buf, total)
        .expect("buffer is a multiple of the block size");
    STANDARD.encode(cipher)
}

/// Builds the passive-reply XML envelope from its four values.
pub fn reply_xml(encrypt: &str, msg_signature: &str, timestamp: &str, nonce: &str) -> String {
    format!(
        "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature>\
         <TimeStamp>{}</TimeStamp><Nonce>{}</Nonce></xml>",
        cdata(encrypt),
        cdata(msg_signature),
        quick_xml::escape::escape(timestamp),
        cdata(nonce),
    )
}

/// Wraps `text` in CDATA, splitting any `]]>` so the section cannot be closed early.
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// One WeCom app's callback credentials: token, AES key and the corp id as receiveid.
/// Its `Debug` never shows the secrets.
#[derive(Clone)]
pub struct CallbackCrypto {
    token: String,
    key: AesKey,
    receive_id: String,
}

impl std::fmt::Debug for CallbackCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackCrypto")
            .field("receive_id", &self.receive_id)
            .finish_non_exhaustive()
    }
}

impl CallbackCrypto {
    /// The key is parsed once, where the EncodingAESKey is read ([`AesKey::from_encoding_aes_key`]).
    pub fn new(token: &str, key: AesKey, receive_id: &str) -> Self {
        Self {
            token: token.to_owned(),
            key,
            receive_id: receive_id.to_owned(),
        }
    }

    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    /// The signature WeCom would send for these values.
    pub fn sign(&self, timestamp: &str, nonce: &str, payload: &str) -> String {
        signature(&self.token, timestamp, nonce, payload)
    }

    /// Constant-time check of `msg_signature`.
    pub fn verify(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        payload: &str,
    ) -> Result<(), CryptoError> {
        let expected = self.sign(timestamp, nonce, payload);
        if bool::from(expected.as_bytes().ct_eq(msg_signature.as_bytes())) {
            Ok(())
        } else {
            Err(CryptoError::InvalidSignature)
        }
    }

    /// Decrypts a payload and checks its receiveid against ours.
    pub fn decrypt(&self, payload_b64: &str) -> Result<Vec<u8>, CryptoError> {
        decrypt(&self.key, payload_b64, &self.receive_id)
    }

    /// [`Self::verify`] then [`Self::decrypt`]: the whole inbound check of a callback, for the
    /// GET `echostr` as for the POST `Encrypt` value.
    pub fn verify_and_decrypt(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        payload_b64: &str,
    ) -> Result<Vec<u8>, CryptoError> {
        self.verify(msg_signature, timestamp, nonce, payload_b64)?;
        self.decrypt(payload_b64)
    }

    /// Encrypts `msg` for our receiveid with fresh random bytes.
    pub fn encrypt(&self, msg: &[u8]) -> String {
        encrypt(&self.key, rand::random(), msg, &self.receive_id)
    }

    /// The passive-reply envelope for `msg`: encrypted with fresh random bytes, signed over the
    /// new ciphertext with `timestamp` and `nonce`.
    pub fn encrypt_reply(&self, msg: &[u8], timestamp: &str, nonce: &str) -> String {
        self.encrypt_reply_with_random(rand::random(), msg, timestamp, nonce)
    }

    /// [`Self::encrypt_reply`] with caller-chosen random bytes (deterministic; for tests).
    pub fn encrypt_reply_with_random(
        &self,
        random: [u8; 16],
        msg: &[u8],
        timestamp: &str,
        nonce: &str,
    ) -> String {
        let encrypted = encrypt(&self.key, random, msg, &self.receive_id);
        let msg_signature = self.sign(timestamp, nonce, &encrypted);
        reply_xml(&encrypted, &msg_signature, timestamp, nonce)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC_KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";

    #[test]
    fn unpad32_accepts_full_block_and_rejects_bad_pads() {
        assert_eq!(unpad32(&[32u8; 32]).unwrap(), &[] as &[u8]);
        assert_eq!(unpad32(&[7, 7, 1]).unwrap(), &[7, 7]);
        assert!(unpad32(&[0u8; 32]).is_err());
        assert!(unpad32(&[33u8; 64]).is_err());
        assert!(unpad32(&[1, 2, 3, 3]).is_err());
        assert!(unpad32(&[3, 3]).is_err());
        assert!(unpad32(&[]).is_err());
    }

    #[test]
    fn padding_is_to_a_32_byte_multiple() {
        let key = AesKey::from_encoding_aes_key(DOC_KEY).unwrap();
        for len in 0..70 {
            let msg = vec![b'x'; len];
            let raw = decrypt_raw(&key, &encrypt(&key, [0; 16], &msg, "ww1")).unwrap();
            assert_eq!(raw.len() % PAD_BLOCK, 0);
            let unpadded = RANDOM_LEN + 4 + len + 3;
            assert_eq!(raw.len() - unpadded, PAD_BLOCK - unpadded % PAD_BLOCK);
        }
    }

    #[test]
    fn debug_hides_secrets() {
        let key = AesKey::from_encoding_aes_key(DOC_KEY).unwrap();
        let c = CallbackCrypto::new("SeCrEtToKeN", key, "wwcorp");
        let shown = format!("{c:?} {:?}", c.key);
        assert!(shown.contains("wwcorp"));
        assert!(!shown.contains("SeCrEtToKeN"));
        assert!(!shown.contains(DOC_KEY));
    }

    #[test]
    fn reply_xml_cannot_be_broken_out_of() {
        let xml = reply_xml("e", "s", "1<2", "a]]>b");
        assert!(xml.contains("<TimeStamp>1&lt;2</TimeStamp>"));
        assert!(xml.contains("<Nonce><![CDATA[a]]]]><![CDATA[>b]]></Nonce>"));
    }
}
