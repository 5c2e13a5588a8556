//! Start-up seed data: the admin user and the API key a fresh deployment needs to be usable.

use crate::error::AuthError;
use crate::password::Passwords;
use crate::secret::hash_api_key;
use crate::settings::Settings;
use crate::store::AuthStore;
use crate::validate;

/// Creates the seed admin and API key when configured; safe to run on every start of every replica.
pub async fn run(
    store: &AuthStore,
    passwords: &Passwords,
    settings: &Settings,
) -> Result<(), AuthError> {
    if let (Some(email), Some(password)) =
        (&settings.seed_admin_email, &settings.seed_admin_password)
    {
        let email = validate::email(email)?;
        // Hash only for a new admin: every replica start would otherwise pay for an argon2 hash.
        let hash = if store.email_taken(&email).await? {
            None
        } else {
            Some(passwords.hash(password.clone()).await?)
        };
        store.ensure_admin(&email, "Admin", hash.as_deref()).await?;
        tracing::info!(%email, "seed admin ready");
    }
    if let Some(key) = settings.seed_api_key.as_deref().filter(|k| !k.is_empty()) {
        store.ensure_api_key(&hash_api_key(key), "seed key").await?;
        tracing::info!("seed API key ready");
    }
    Ok(())
}
