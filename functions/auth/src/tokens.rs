//! RS256 JWTs: issuing a token pair bound to a keystore row and checking tokens presented to us.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::dto::TokenPair;
use crate::error::AuthError;
use crate::settings::Settings;

/// Claims of both tokens; `prm` names the keystore row (its primary key in an access token,
/// its secondary key in a refresh token), so deleting the row revokes the pair.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// The keystore key this token is bound to.
    pub prm: String,
}

/// The signing and verifying keys plus the rules every token must meet.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl TokenKeys {
    /// Reads the PEM key files named in the settings; a missing or bad file stops start-up.
    pub fn load(settings: &Settings) -> Result<Self, runtime::Error> {
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|err| {
                runtime::Error::startup(&format!("cannot read JWT key {}", path.display()), err)
            })
        };
        let private = read(&settings.jwt_private_key_path)?;
        let public = read(&settings.jwt_public_key_path)?;
        let encoding = EncodingKey::from_rsa_pem(&private)
            .map_err(|err| runtime::Error::startup("JWT private key is not an RSA PEM", err))?;
        let decoding = DecodingKey::from_rsa_pem(&public)
            .map_err(|err| runtime::Error::startup("JWT public key is not an RSA PEM", err))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&settings.jwt_issuer]);
        validation.set_audience(&[&settings.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(Self {
            encoding,
            decoding,
            validation,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            access_ttl: settings.access_ttl(),
            refresh_ttl: settings.refresh_ttl(),
        })
    }

    /// Signs an access token bound to `primary_key` and a refresh token bound to `secondary_key`.
    /// Returns the pair and the refresh token's expiry (the keystore row lives as long).
    pub fn issue(
        &self,
        user_id: &str,
        primary_key: &str,
        secondary_key: &str,
    ) -> Result<(TokenPair, i64), AuthError> {
        let now = chrono::Utc::now().timestamp();
        let sign = |key: &str, ttl: Duration| {
            let claims = Claims {
                iss: self.issuer.clone(),
                aud: self.audience.clone(),
                sub: user_id.to_owned(),
                iat: now,
                exp: now + ttl.as_secs() as i64,
                prm: key.to_owned(),
            };
            jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.encoding)
                .map_err(|err| AuthError::Internal(format!("cannot sign a JWT: {err}")))
        };
        let pair = TokenPair {
            access_token: sign(primary_key, self.access_ttl)?,
            refresh_token: sign(secondary_key, self.refresh_ttl)?,
        };
        Ok((pair, now + self.refresh_ttl.as_secs() as i64))
    }

    /// The claims of a token with a valid signature, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        self.decode(token, &self.validation)
    }

    /// Like [`TokenKeys::verify`] but accepting an expired token: refreshing is what an expired
    /// access token is for.
    pub fn verify_ignoring_expiry(&self, token: &str) -> Result<Claims, AuthError> {
        let mut validation = self.validation.clone();
        validation.validate_exp = false;
        self.decode(token, &validation)
    }

    fn decode(&self, token: &str, validation: &Validation) -> Result<Claims, AuthError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, validation)
            .map(|data| data.claims)
            .map_err(|err| {
                let reason = match err.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::InvalidSignature => "the token signature is invalid",
                    ErrorKind::InvalidAlgorithm => "the token must be signed with RS256",
                    ErrorKind::InvalidIssuer => "the token has the wrong issuer",
                    ErrorKind::InvalidAudience => "the token has the wrong audience",
                    ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
                    _ => "the token is malformed",
                };
                AuthError::InvalidToken(reason.into())
            })
    }
}
