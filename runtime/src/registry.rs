//! The link-time list of handlers, and the start-up checks that keep it sound.

use std::collections::BTreeMap;

use bytes::Bytes;
use futures::future::BoxFuture;

use crate::error::{ApiError, Error};
use crate::extract::{Need, Parts};

/// Every `#[handler]` in the binary adds one entry here at link time; nothing else lists handlers.
#[linkme::distributed_slice]
pub static HANDLERS: [HandlerDef];

/// Every handler linked into this binary, for tools that generate config from them (NATS
/// permissions, Kong routes); a service serves the ones its `--only` selects.
pub fn handlers() -> &'static [HandlerDef] {
    &HANDLERS
}

/// Who may call a handler, derived by the attribute from its roles and arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; no token is looked at.
    Public,
    /// Anyone; a valid token, when sent, becomes the caller.
    Optional,
    /// A valid bearer token is required (roles, if any, are checked too).
    Bearer,
}

impl Access {
    /// The stricter of two access levels: what a handler needs when two arguments ask.
    pub const fn strictest(self, other: Self) -> Self {
        match (self, other) {
            (Self::Bearer, _) | (_, Self::Bearer) => Self::Bearer,
            (Self::Optional, _) | (_, Self::Optional) => Self::Optional,
            _ => Self::Public,
        }
    }

    /// This level with a required caller relaxed to an optional one (for `Option<T>` arguments).
    pub const fn optional(self) -> Self {
        match self {
            Self::Bearer => Self::Optional,
            other => other,
        }
    }

    /// The value published in endpoint metadata under `auth`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Optional => "optional",
            Self::Bearer => "bearer",
        }
    }
}

/// Which queue group an endpoint joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueGroup {
    /// The platform-wide group `q`: replicas share the load.
    Default,
    /// A group the handler names.
    Named(&'static str),
    /// No group: every replica receives every message (fan-out).
    None,
}

/// A durable JetStream consumer a handler reads its events through (`durable = ".."`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Durable {
    /// Consumer name, shared by every replica so each event is applied once per service.
    pub name: &'static str,
    /// Deliveries before the event moves to `dlq.<name>`; 0 takes the default (5).
    pub max_deliver: u32,
}

impl Durable {
    /// Deliveries when the attribute names none.
    pub const DEFAULT_MAX_DELIVER: u32 = 5;

    /// Deliveries before giving up on an event.
    pub fn max_deliver(&self) -> u32 {
        match self.max_deliver {
            0 => Self::DEFAULT_MAX_DELIVER,
            n => n,
        }
    }

    /// Where an event goes with its error after its last delivery failed.
    pub fn dead_letter_subject(&self) -> String {
        format!("dlq.{}", self.name)
    }
}

/// The type-erased entry point the attribute generates around a handler.
pub type CallFn = fn(Parts, Bytes) -> BoxFuture<'static, Result<Bytes, ApiError>>;

/// Adds the state types a handler's arguments read, as the attribute folds them together.
pub type NeedsFn = fn(&mut Vec<Need>);

/// One registered handler, as written by the `#[handler]` attribute.
#[derive(Debug)]
pub struct HandlerDef {
    /// NATS subject the handler answers, e.g. `blog.author.create`.
    pub subject: &'static str,
    /// HTTP method and path (with `:params`) when the handler is reachable over REST.
    pub http: Option<(&'static str, &'static str)>,
    /// Roles of which the caller needs one (ADMIN passes every check).
    pub roles: &'static [&'static str],
    /// Whether and how the caller is resolved.
    pub access: Access,
    /// Queue group membership.
    pub queue_group: QueueGroup,
    /// Per-handler timeout in milliseconds; 0 takes the service default.
    pub timeout_ms: u64,
    /// Per-handler cap on concurrent requests per replica; 0 takes the service default.
    pub concurrency: usize,
    /// The handler's doc comment, published as endpoint metadata.
    pub description: &'static str,
    /// `file:line` of the handler, for start-up errors.
    pub location: &'static str,
    /// The state types the handler's arguments read, checked when the service starts.
    pub needs: NeedsFn,
    /// Consume the subject from its JetStream stream through this durable consumer instead of a
    /// core subscription, so no event is missed while the replica is away.
    pub durable: Option<Durable>,
    /// The generated entry point.
    pub call: CallFn,
}

impl HandlerDef {
    /// ADR-32 endpoint name: the subject with dots replaced, so `nats micro` accepts it.
    pub fn endpoint_name(&self) -> String {
        self.subject.replace('.', "_")
    }

    /// The queue group to subscribe with, if any.
    pub fn queue_group(&self) -> Option<&'static str> {
        match self.queue_group {
            QueueGroup::Default => Some(DEFAULT_QUEUE_GROUP),
            QueueGroup::Named(name) => Some(name),
            QueueGroup::None => None,
        }
    }
}

/// The queue group every handler joins unless it names another.
pub const DEFAULT_QUEUE_GROUP: &str = "q";

/// Checks every registered handler and returns those selected by `only` (plus every fan-out
/// handler), sorted by subject.
pub fn select(
    all: &'static [HandlerDef],
    only: &[String],
) -> Result<Vec<&'static HandlerDef>, Error> {
    let mut by_subject: BTreeMap<&str, &'static HandlerDef> = BTreeMap::new();
    for def in all {
        validate_subject(def.subject)?;
        if let Some(first) = by_subject.insert(def.subject, def) {
            return Err(Error::DuplicateSubject {
                subject: def.subject,
                first: first.location,
                second: def.location,
            });
        }
    }
    let patterns: Vec<&str> = only
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect();
    let matches = |def: &HandlerDef| patterns.iter().any(|p| subject_matches(p, def.subject));
    if !patterns.is_empty() && !by_subject.values().any(|def| matches(def)) {
        return Err(Error::NothingSelected(only.to_vec()));
    }
    // Fan-out handlers keep replica-local state current (cache eviction and the like), so every
    // replica serves them, including one started with `--only` for a few hot subjects.
    let selected: Vec<_> = by_subject
        .into_values()
        .filter(|def| patterns.is_empty() || def.queue_group == QueueGroup::None || matches(def))
        .collect();
    Ok(selected)
}

/// NATS wildcard semantics: `*` matches one token, a trailing `>` matches one or more.
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for token in pattern.split('.') {
        match (token, subject_tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (literal, Some(actual)) if literal == actual => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

fn validate_subject(subject: &'static str) -> Result<(), Error> {
    let invalid = |why| Err(Error::InvalidSubject(subject, why));
    if subject.is_empty() || subject.split('.').any(str::is_empty) {
        return invalid("empty token");
    }
    if !subject
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return invalid("only letters, digits, '.', '_' and '-' are allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(_: Parts, _: Bytes) -> futures::future::BoxFuture<'static, Result<Bytes, ApiError>> {
        Box::pin(async { Ok(Bytes::new()) })
    }

    const fn def(location: &'static str) -> HandlerDef {
        HandlerDef {
            subject: "demo.twice",
            http: None,
            roles: &[],
            access: Access::Public,
            queue_group: QueueGroup::Default,
            timeout_ms: 0,
            concurrency: 0,
            description: "",
            location,
            needs: |_| {},
            durable: None,
            call,
        }
    }

    #[test]
    fn two_handlers_with_one_subject_are_refused_at_start() {
        static TWICE: [HandlerDef; 2] = [def("a.rs:1"), def("b.rs:2")];

        let err = select(&TWICE, &[]).unwrap_err();

        assert!(
            matches!(
                err,
                Error::DuplicateSubject {
                    subject: "demo.twice",
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("a.rs:1") && err.to_string().contains("b.rs:2"),
            "{err}"
        );
    }

    #[test]
    fn star_matches_exactly_one_token() {
        assert!(subject_matches("blog.list.*", "blog.list.latest"));
        assert!(!subject_matches("blog.list.*", "blog.list"));
        assert!(!subject_matches("blog.list.*", "blog.list.tag.x"));
    }

    #[test]
    fn tail_wildcard_matches_the_rest() {
        assert!(subject_matches("blog.>", "blog.author.create"));
        assert!(!subject_matches("blog.>", "blog"));
        assert!(!subject_matches("auth.>", "blog.author.create"));
    }

    #[test]
    fn literal_pattern_matches_only_itself() {
        assert!(subject_matches("auth.token.verify", "auth.token.verify"));
        assert!(!subject_matches("auth.token.verify", "auth.token.verify2"));
    }

    #[test]
    fn wildcards_and_empty_tokens_are_not_servable() {
        assert!(validate_subject("blog.*").is_err());
        assert!(validate_subject("blog..x").is_err());
        assert!(validate_subject("blog.list-latest_2").is_ok());
    }
}
