//! Argon2id password hashing, off the async threads because each hash takes tens of milliseconds.

use std::sync::Arc;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::AuthError;

/// Hashes and verifies passwords with one fixed set of argon2id parameters.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// Verified against when the user is unknown, so a missing account costs as long as a wrong password.
    dummy_hash: Arc<str>,
}

impl Passwords {
    /// Argon2id with the OWASP-recommended defaults (19 MiB, 2 passes, 1 lane).
    pub fn new() -> Result<Self, AuthError> {
        let params = Params::default();
        let dummy_hash = hash_with(&params, "not-a-real-password-8f3c")?;
        Ok(Self {
            params,
            dummy_hash: dummy_hash.into(),
        })
    }

    /// The parameters in use, for logs and the benchmark.
    pub fn describe(&self) -> String {
        format!(
            "argon2id v19, m={} KiB, t={}, p={}",
            self.params.m_cost(),
            self.params.t_cost(),
            self.params.p_cost()
        )
    }

    /// The PHC string of `password` with a fresh random salt.
    pub async fn hash(&self, password: String) -> Result<String, AuthError> {
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || hash_with(&params, &password)).await?
    }

    /// Whether `password` matches `hash`; with no hash it checks a dummy one and answers false,
    /// taking the same time either way.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, AuthError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let params = self.params.clone();
        let matches = tokio::task::spawn_blocking(move || {
            argon2(&params)
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok()
        })
        .await?;
        Ok(known && matches)
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_with(params: &Params, password: &str) -> Result<String, AuthError> {
    argon2(params)
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| AuthError::Internal(format!("argon2 hashing failed: {err}")))
}
