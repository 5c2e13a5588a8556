//! The parts of Kong's declarative config the platform relies on, read so tests can check them.

use std::path::Path;

use serde::Deserialize;

/// Why the config cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is missing or unreadable.
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    /// The YAML does not fit the expected shape.
    #[error("invalid kong.yml: {0}")]
    Parse(#[from] serde_yaml_ng::Error),
}

/// A DB-less Kong configuration (`_format_version: "3.0"`).
#[derive(Debug, Deserialize)]
pub struct KongConfig {
    /// Declarative format version.
    #[serde(rename = "_format_version")]
    pub format_version: String,
    /// Load-balanced target groups.
    #[serde(default)]
    pub upstreams: Vec<Upstream>,
    /// Upstream services with their routes.
    #[serde(default)]
    pub services: Vec<Service>,
}

/// A group of targets Kong balances over.
#[derive(Debug, Deserialize)]
pub struct Upstream {
    /// Name services use as their host.
    pub name: String,
}

/// Where matched requests go.
#[derive(Debug, Deserialize)]
pub struct Service {
    /// Service name.
    pub name: String,
    /// An upstream name or a hostname.
    pub host: String,
    /// How often Kong replays a request on another target after a failure (Kong's default is 5).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Routes sending traffic here.
    #[serde(default)]
    pub routes: Vec<Route>,
}

fn default_retries() -> u32 {
    5
}

/// Which requests a route matches.
#[derive(Debug, Clone, Deserialize)]
pub struct Route {
    /// Route name.
    pub name: String,
    /// Path prefixes.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Methods; empty matches all.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Whether Kong strips the matched prefix (the bridge needs full paths).
    #[serde(default = "default_strip_path")]
    pub strip_path: bool,
}

fn default_strip_path() -> bool {
    true
}

impl KongConfig {
    /// Reads and parses a kong.yml.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| ConfigError::Read(path.display().to_string(), err))?;
        Self::parse(&text)
    }

    /// Parses kong.yml text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        Ok(serde_yaml_ng::from_str(text)?)
    }

    /// Every route with the service it belongs to.
    pub fn routes(&self) -> impl Iterator<Item = (&Service, &Route)> {
        self.services
            .iter()
            .flat_map(|service| service.routes.iter().map(move |route| (service, route)))
    }

    /// The route a request would take, if any (prefix paths, as Kong matches them).
    pub fn route_for(&self, method: &str, path: &str) -> Option<&Route> {
        self.routes().map(|(_, route)| route).find(|route| {
            let method_ok = route.methods.is_empty()
                || route.methods.iter().any(|m| m.eq_ignore_ascii_case(method));
            let path_ok = route
                .paths
                .iter()
                .any(|prefix| path.starts_with(prefix.as_str()));
            method_ok && path_ok
        })
    }

    /// Whether a service's host names a declared upstream.
    pub fn has_upstream(&self, host: &str) -> bool {
        self.upstreams.iter().any(|u| u.name == host)
    }
}
