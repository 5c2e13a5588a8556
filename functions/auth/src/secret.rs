//! Secrets and their hashes: how keystore keys and API keys are made, and how tokens and keys are
//! named in storage and caches. A leaf: it needs nothing else from the crate.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A new random secret (256 bits, URL-safe base64): keystore keys and API keys.
pub fn random_secret() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// SHA-256 (hex) of a secret: how tokens and API keys are named in storage and caches.
pub fn sha256_hex(text: &str) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// SHA-256 (hex) of an API key: what is stored and cached instead of the key.
pub fn hash_api_key(key: &str) -> String {
    sha256_hex(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_lower_case_hex_of_the_utf8_bytes() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hash_api_key("abc"), sha256_hex("abc"));
    }

    #[test]
    fn secrets_are_256_bits_of_url_safe_text_and_never_repeat() {
        let (a, b) = (random_secret(), random_secret());
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a, b);
    }
}
