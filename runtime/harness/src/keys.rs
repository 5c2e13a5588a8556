//! RSA key pairs for signing JWTs in tests and benchmarks, made with openssl so none is committed.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// PEM files of a fresh 2048-bit RSA key pair (PKCS#8 private key, SPKI public key).
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// The private key file.
    pub private: PathBuf,
    /// The public key file.
    pub public: PathBuf,
}

impl KeyPair {
    /// The private key's PEM bytes.
    pub fn private_pem(&self) -> Vec<u8> {
        std::fs::read(&self.private).expect("private key readable")
    }
}

/// Generates a key pair in a new temp directory named after `prefix`, as `scripts/dev` does.
pub fn rsa_key_pair(prefix: &str) -> KeyPair {
    let dir = std::env::temp_dir().join(crate::unique_name(prefix));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let private = dir.join("jwt-private.pem");
    let public = dir.join("jwt-public.pem");
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .stderr(Stdio::null())
            .status()
            .expect("openssl is installed");
        assert!(status.success(), "openssl {args:?} failed");
    };
    let (private_path, public_path) = (private.display().to_string(), public.display().to_string());
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &private_path,
    ]);
    openssl(&[
        "pkey",
        "-pubout",
        "-in",
        &private_path,
        "-out",
        &public_path,
    ]);
    KeyPair { private, public }
}
