//! How every function and the bridge reach NATS: server list, credentials and TLS, from env.
//!
//! Secrets are read from files at connect time and handed straight to the client; this struct only
//! holds paths, so its `Debug` (and any log of the config) never shows a secret.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::{ConnectErrorKind, ConnectOptions};

use crate::error::Error;

/// NATS URL used when `NATS_URL` is unset.
pub const DEFAULT_NATS_URL: &str = "nats://127.0.0.1:4222";

/// Connection settings shared by every binary; flatten into its `clap::Parser`.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// NATS servers, comma-separated (`nats://a:4222,nats://b:4222`); any one is enough to start.
    #[arg(long = "nats-url", env = "NATS_URL", default_value = DEFAULT_NATS_URL)]
    pub nats_url: String,
    /// A `.creds` file (user JWT + nkey seed), for operator/account deployments.
    #[arg(long = "nats-creds", env = "NATS_CREDS")]
    pub creds: Option<PathBuf>,
    /// A file holding an nkey seed (`SU...`).
    #[arg(long = "nats-nkey", env = "NATS_NKEY")]
    pub nkey: Option<PathBuf>,
    /// User name; the password comes from `NATS_PASSWORD_FILE`.
    #[arg(long = "nats-user", env = "NATS_USER")]
    pub user: Option<String>,
    /// A file holding the password of `NATS_USER`.
    #[arg(long = "nats-password-file", env = "NATS_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
    /// A file holding an authentication token.
    #[arg(long = "nats-token-file", env = "NATS_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM file of the CA that signed the server's certificate; turns TLS on.
    #[arg(long = "nats-tls-ca", env = "NATS_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate, for servers that verify clients (mutual TLS); needs `NATS_TLS_KEY`.
    #[arg(long = "nats-tls-cert", env = "NATS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `NATS_TLS_CERT`.
    #[arg(long = "nats-tls-key", env = "NATS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Refuse to talk to a server without TLS.
    #[arg(
        long = "nats-tls-required",
        env = "NATS_TLS_REQUIRED",
        default_value_t = false
    )]
    pub tls_required: bool,
}

impl Default for Connection {
    fn default() -> Self {
        Self::plain(DEFAULT_NATS_URL)
    }
}

impl Connection {
    /// No credentials, no TLS: a local or test server.
    pub fn plain(nats_url: impl Into<String>) -> Self {
        Self {
            nats_url: nats_url.into(),
            creds: None,
            nkey: None,
            user: None,
            password_file: None,
            token_file: None,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
            tls_required: false,
        }
    }

    /// The servers of `NATS_URL`, trimmed, empty entries dropped.
    pub fn servers(&self) -> Vec<String> {
        self.nats_url
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Client options with credentials and TLS applied; `name` is the client name and inbox owner.
    ///
    /// Replies come back on `_INBOX.<name>.>`, so the server can give each user its own inbox
    /// and no other user can read them.
    pub async fn options(&self, name: &str) -> Result<ConnectOptions, Error> {
        self.options_with(name, |_| {}).await
    }

    /// Like [`Connection::options`], also showing every connection event to `watch` (e.g. a
    /// server announcing lame duck mode before it closes the connection).
    pub async fn options_with(
        &self,
        name: &str,
        watch: impl Fn(&async_nats::Event) + Send + Sync + 'static,
    ) -> Result<ConnectOptions, Error> {
        let watch = std::sync::Arc::new(watch);
        let chosen = [
            self.creds.is_some(),
            self.nkey.is_some(),
            self.user.is_some() || self.password_file.is_some(),
            self.token_file.is_some(),
        ];
        if chosen.iter().filter(|c| **c).count() > 1 {
            return Err(Error::Config(
                "set only one of NATS_CREDS, NATS_NKEY, NATS_USER + NATS_PASSWORD_FILE, NATS_TOKEN_FILE"
                    .into(),
            ));
        }
        let mut options = ConnectOptions::new();
        if let Some(path) = &self.creds {
            options = options
                .credentials_file(path)
                .await
                .map_err(|err| Error::Config(format!("NATS_CREDS {}: {err}", path.display())))?;
        }
        if let Some(path) = &self.nkey {
            options = options.nkey(read_secret("NATS_NKEY", path)?);
        }
        match (&self.user, &self.password_file) {
            (Some(user), Some(path)) => {
                options = options
                    .user_and_password(user.clone(), read_secret("NATS_PASSWORD_FILE", path)?);
            }
            (Some(_), None) => {
                return Err(Error::Config("NATS_USER needs NATS_PASSWORD_FILE".into()));
            }
            (None, Some(_)) => {
                return Err(Error::Config("NATS_PASSWORD_FILE needs NATS_USER".into()));
            }
            (None, None) => {}
        }
        if let Some(path) = &self.token_file {
            options = options.token(read_secret("NATS_TOKEN_FILE", path)?);
        }
        if let Some(ca) = &self.tls_ca {
            ensure_readable("NATS_TLS_CA", ca)?;
            options = options.add_root_certificates(ca.clone()).require_tls(true);
        }
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            ensure_readable("NATS_TLS_CERT", cert)?;
            ensure_readable("NATS_TLS_KEY", key)?;
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        if self.tls_required {
            options = options.require_tls(true);
        }
        Ok(options
            .name(name)
            .custom_inbox_prefix(inbox_prefix(name))
            .connection_timeout(Duration::from_secs(5))
            .max_reconnects(None)
            .event_callback(move |event| {
                let watch = watch.clone();
                async move {
                    watch(&event);
                    match event {
                        async_nats::Event::Connected => tracing::info!("connected to NATS"),
                        async_nats::Event::Disconnected => {
                            tracing::warn!("disconnected from NATS; reconnecting")
                        }
                        async_nats::Event::ServerError(
                            err @ async_nats::ServerError::AuthorizationViolation,
                        ) => {
                            // Credentials were revoked or rotated under us: retrying cannot help.
                            tracing::error!(%err, "NATS refused our credentials; exiting");
                            std::process::exit(EXIT_BAD_CREDENTIALS);
                        }
                        other => tracing::info!(event = %other, "NATS event"),
                    }
                }
            }))
    }

    /// Connects; a NATS that is down or refuses our credentials at start is an error, not a hang.
    pub async fn connect(&self, name: &str) -> Result<async_nats::Client, Error> {
        self.connect_with(name, |_| {}).await
    }

    /// Like [`Connection::connect`], also showing every connection event to `watch`.
    pub async fn connect_with(
        &self,
        name: &str,
        watch: impl Fn(&async_nats::Event) + Send + Sync + 'static,
    ) -> Result<async_nats::Client, Error> {
        let servers = self.servers();
        if servers.is_empty() {
            return Err(Error::Config("NATS_URL lists no server".into()));
        }
        let options = self.options_with(name, watch).await?;
        options.connect(servers.as_slice()).await.map_err(|err| {
            let to = servers.join(",");
            match err.kind() {
                ConnectErrorKind::AuthorizationViolation | ConnectErrorKind::Authentication => {
                    Error::BadCredentials(format!(
                        "{to} refused the credentials of '{name}' ({err}); check NATS_USER/NATS_PASSWORD_FILE, NATS_CREDS, NATS_NKEY or NATS_TOKEN_FILE"
                    ))
                }
                _ => Error::Nats(format!("cannot connect to {to}: {err}")),
            }
        })
    }
}

/// Process exit code when NATS refuses our credentials after we were connected.
pub const EXIT_BAD_CREDENTIALS: i32 = 78;

/// Inbox prefix of a client named `name`; the server config grants each user only its own.
pub fn inbox_prefix(name: &str) -> String {
    format!("_INBOX.{name}")
}

fn read_secret(what: &str, path: &Path) -> Result<String, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| Error::Config(format!("{what} {}: {err}", path.display())))?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(Error::Config(format!("{what} {} is empty", path.display())));
    }
    Ok(secret.to_owned())
}

fn ensure_readable(what: &str, path: &Path) -> Result<(), Error> {
    std::fs::metadata(path)
        .map(|_| ())
        .map_err(|err| Error::Config(format!("{what} {}: {err}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_separated_url_lists_every_server() {
        let connection = Connection::plain("nats://a:4222, nats://b:4223,,tls://c:4224");
        assert_eq!(
            connection.servers(),
            ["nats://a:4222", "nats://b:4223", "tls://c:4224"]
        );
    }

    #[tokio::test]
    async fn two_kinds_of_credentials_are_refused() {
        let connection = Connection {
            nkey: Some("/x".into()),
            token_file: Some("/y".into()),
            ..Connection::plain("nats://a:4222")
        };
        let err = connection.options("t").await.unwrap_err();
        assert!(err.to_string().contains("only one of"), "{err}");
    }

    #[tokio::test]
    async fn missing_password_file_names_the_variable() {
        let connection = Connection {
            user: Some("blog".into()),
            password_file: Some("/nonexistent/blog.password".into()),
            ..Connection::plain("nats://a:4222")
        };
        let err = connection.options("t").await.unwrap_err();
        assert!(err.to_string().contains("NATS_PASSWORD_FILE"), "{err}");
    }
}
