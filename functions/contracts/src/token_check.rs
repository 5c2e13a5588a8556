//! The guard's own check of an access token (RS256 signature, expiry, issuer, audience), made
//! before auth is asked, so a forged `auth.token.verify` reply can never make a bad token valid.

use std::collections::HashMap;
use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use runtime::ApiError;
use serde::Deserialize;

/// Verifies access tokens with auth's public key.
#[derive(Clone)]
pub struct TokenCheck {
    key: DecodingKey,
    validation: Validation,
}

/// The claims the guard compares with auth's answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Checked {
    /// The user the token was issued to.
    pub sub: String,
    /// Unix seconds after which the token is invalid.
    pub exp: i64,
    #[serde(flatten)]
    _rest: HashMap<String, serde_json::Value>,
}

impl TokenCheck {
    /// Reads the PEM RSA public key at `path`; tokens must carry `issuer` and `audience`.
    pub fn load(path: &Path, issuer: &str, audience: &str) -> Result<Self, String> {
        let pem = std::fs::read(path)
            .map_err(|err| format!("cannot read the JWT public key {}: {err}", path.display()))?;
        let key = DecodingKey::from_rsa_pem(&pem).map_err(|err| {
            format!(
                "the JWT public key {} is not an RSA PEM: {err}",
                path.display()
            )
        })?;
        Ok(Self::new(key, issuer, audience))
    }

    /// A check with an already loaded key.
    pub fn new(key: DecodingKey, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 0;
        Self { key, validation }
    }

    /// The token's claims when it is signed by auth's key and not expired; 401 otherwise.
    pub fn verify(&self, token: &str) -> Result<Checked, ApiError> {
        jsonwebtoken::decode::<Checked>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| {
                use jsonwebtoken::errors::ErrorKind;
                let why = match err.kind() {
                    ErrorKind::ExpiredSignature => "the access token has expired",
                    ErrorKind::InvalidSignature => "the access token's signature is not valid",
                    ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
                        "the access token was not issued for this platform"
                    }
                    _ => "the access token is malformed",
                };
                ApiError::Unauthorized(why.into())
            })
    }
}
