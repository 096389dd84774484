//! WeCom callback crypto (pure, no I/O): `msg_signature`, AES-256-CBC with WeCom's 32-byte
//! PKCS#7 padding, the `random16 ‖ be_u32(len) ‖ msg ‖ receiveid` plaintext layout.
//! SKELETON: bodies to be written.

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

/// `sha1_hex_lower(concat(sort_bytewise([token, timestamp, nonce, payload])))`.
pub fn signature(token: &str, timestamp: &str, nonce: &str, payload: &str) -> String {
    let _ = (token, timestamp, nonce, payload);
    unimplemented!()
}

/// The 32-byte AES key decoded from a 43-character EncodingAESKey (trailing bits tolerated).
#[derive(Clone)]
pub struct AesKey([u8; 32]);

impl AesKey {
    pub fn from_encoding_aes_key(encoding_aes_key: &str) -> Result<Self, CryptoError> {
        let _ = encoding_aes_key;
        unimplemented!()
    }
}

/// AES-256-CBC (IV = key[..16]) + 32-byte PKCS#7 + plaintext layout. Pure.
pub fn decrypt(
    key: &AesKey,
    payload_b64: &str,
    expected_receive_id: &str,
) -> Result<Vec<u8>, CryptoError> {
    let _ = (key, payload_b64, expected_receive_id);
    unimplemented!()
}

/// Encrypts `msg` for `receive_id` with the given 16 random bytes; returns standard base64.
pub fn encrypt(key: &AesKey, random: [u8; 16], msg: &[u8], receive_id: &str) -> String {
    let _ = (key, random, msg, receive_id);
    unimplemented!()
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
    pub fn new(token: &str, encoding_aes_key: &str, receive_id: &str) -> Result<Self, CryptoError> {
        Ok(Self {
            token: token.to_owned(),
            key: AesKey::from_encoding_aes_key(encoding_aes_key)?,
            receive_id: receive_id.to_owned(),
        })
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
        let _ = (msg_signature, timestamp, nonce, payload);
        unimplemented!()
    }

    /// Decrypts a payload and checks its receiveid against ours.
    pub fn decrypt(&self, payload_b64: &str) -> Result<Vec<u8>, CryptoError> {
        decrypt(&self.key, payload_b64, &self.receive_id)
    }

    /// Encrypts `msg` for our receiveid with fresh random bytes.
    pub fn encrypt(&self, msg: &[u8]) -> String {
        encrypt(&self.key, rand::random(), msg, &self.receive_id)
    }
}
