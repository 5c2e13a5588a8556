//! The NATS users and permissions of the platform, derived from the handler registry.
//!
//! `nats/permissions.conf` is this module's output, checked in so deployments need no Rust; the
//! test `permissions_conf_follows_the_handler_registry` fails when the file and the registry
//! disagree and rewrites it when run with `BLESS=1`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use contracts::auth::{
    APIKEY_REVOKED as APIKEY_REVOKED_SUBJECT, APIKEY_VERIFY as APIKEY_VERIFY_SUBJECT,
    TOKEN_REVOKED as TOKEN_REVOKED_SUBJECT, TOKEN_VERIFY as TOKEN_VERIFY_SUBJECT,
};
use runtime::wire::inbox_prefix;
use runtime::{Access, HandlerDef};

/// Where the generated file lives, relative to the workspace root.
pub const PERMISSIONS_PATH: &str = "nats/permissions.conf";

/// A NATS user of the platform and the client name (hence inbox) it connects with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    /// User name in the server config and in `NATS_USER`.
    pub name: &'static str,
    /// Client name the binary connects with; its inbox is `_INBOX.<client>.>`.
    pub client: &'static str,
    /// Server-side variable holding the password (or its bcrypt hash).
    pub password_var: &'static str,
}

/// The auth function.
pub const AUTH: User = User {
    name: "auth",
    client: "auth",
    password_var: "NATS_AUTH_PASSWORD",
};
/// The blog function.
pub const BLOG: User = User {
    name: "blog",
    client: "blog",
    password_var: "NATS_BLOG_PASSWORD",
};
/// The HTTP bridge.
pub const BRIDGE: User = User {
    name: "bridge",
    client: "http-bridge",
    password_var: "NATS_BRIDGE_PASSWORD",
};
/// People and tools: discovery and read-only requests.
pub const OPERATOR: User = User {
    name: "operator",
    client: "operator",
    password_var: "NATS_OPERATOR_PASSWORD",
};

/// Every user, in file order.
pub const USERS: [User; 4] = [AUTH, BLOG, BRIDGE, OPERATOR];

/// What one user may publish and subscribe to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    /// Subjects (with wildcards) it may publish to.
    pub publish: BTreeSet<String>,
    /// Subjects (with wildcards) it may subscribe to.
    pub subscribe: BTreeSet<String>,
    /// Whether it may answer requests it received (`allow_responses`).
    pub responds: bool,
}

/// Which function crate wrote a handler, from the path its attribute recorded.
pub fn owner(def: &HandlerDef) -> Option<User> {
    [AUTH, BLOG].into_iter().find(|user| {
        def.location
            .starts_with(&format!("functions/{}/", user.name))
    })
}

/// The permissions of `user` given every registered handler.
pub fn permissions(user: User, handlers: &[HandlerDef]) -> Permissions {
    let mut p = Permissions::default();
    let sub = |p: &mut Permissions, s: &str| p.subscribe.insert(s.to_owned());
    let publ = |p: &mut Permissions, s: &str| p.publish.insert(s.to_owned());
    sub(&mut p, &format!("{}.>", inbox_prefix(user.client)));
    match user {
        AUTH | BLOG => {
            p.responds = true;
            let own: Vec<_> = handlers.iter().filter(|d| owner(d) == Some(user)).collect();
            for def in &own {
                match def.durable {
                    // Read through a JetStream consumer, found by subject; failures park on its DLQ.
                    Some(durable) => {
                        publ(&mut p, "$JS.API.STREAM.NAMES");
                        publ(&mut p, &durable.dead_letter_subject());
                    }
                    None => {
                        sub(&mut p, def.subject);
                    }
                }
            }
            if own.iter().any(|d| d.access != Access::Public) {
                // The guard resolves bearer tokens and hears about revoked ones.
                publ(&mut p, TOKEN_VERIFY_SUBJECT);
                sub(&mut p, TOKEN_REVOKED_SUBJECT);
            }
            // ADR-32 discovery: the bare verbs and those naming this service, never another's.
            for verb in ["PING", "INFO", "STATS"] {
                sub(&mut p, &format!("$SRV.{verb}"));
            }
            sub(&mut p, &format!("$SRV.*.{}", user.name));
            sub(&mut p, &format!("$SRV.*.{}.*", user.name));
            // Start-up pings its own instance; `--check` pings the service.
            publ(&mut p, &format!("$SRV.PING.{}", user.name));
            publ(&mut p, &format!("$SRV.PING.{}.*", user.name));
            publ(&mut p, &format!("{}.events.>", user.name));
            if user == AUTH {
                // Its own replicas evict what they cached on its events.
                sub(&mut p, "auth.events.>");
            }
            for subject in jetstream(user) {
                publ(&mut p, &subject);
            }
        }
        BRIDGE => {
            for def in handlers.iter().filter(|d| d.http.is_some()) {
                publ(&mut p, def.subject);
            }
            publ(&mut p, APIKEY_VERIFY_SUBJECT);
            publ(&mut p, "$SRV.>");
            sub(&mut p, TOKEN_REVOKED_SUBJECT);
            sub(&mut p, APIKEY_REVOKED_SUBJECT);
        }
        _ => {
            for def in handlers
                .iter()
                .filter(|d| matches!(d.http, Some(("GET", _))))
            {
                publ(&mut p, def.subject);
            }
            publ(&mut p, "$SRV.>");
        }
    }
    p
}

/// JetStream API subjects for a function's own event stream, durable consumers and idempotency keys.
///
/// Streams are `AUTH_EVENTS` / `BLOG_EVENTS`; blog also consumes `AUTH_EVENTS`. The shared KV
/// bucket `idempotency` is split by key prefix: a function reads and writes only `<name>.>` keys.
pub fn jetstream(user: User) -> Vec<String> {
    let own = format!("{}_EVENTS", user.name.to_uppercase());
    let mut consumed = vec![own.clone()];
    if user == BLOG {
        consumed.push("AUTH_EVENTS".to_owned());
    }
    let mut subjects = vec![
        "$JS.API.INFO".to_owned(),
        format!("$JS.API.STREAM.CREATE.{own}"),
        format!("$JS.API.STREAM.UPDATE.{own}"),
        format!("$JS.API.STREAM.INFO.{own}"),
        "$JS.API.STREAM.CREATE.KV_idempotency".to_owned(),
        "$JS.API.STREAM.INFO.KV_idempotency".to_owned(),
        format!(
            "$JS.API.DIRECT.GET.KV_idempotency.$KV.idempotency.{}.>",
            user.name
        ),
        format!("$KV.idempotency.{}.>", user.name),
    ];
    for stream in consumed {
        subjects.extend([
            format!("$JS.API.STREAM.INFO.{stream}"),
            format!("$JS.API.CONSUMER.CREATE.{stream}"),
            format!("$JS.API.CONSUMER.CREATE.{stream}.>"),
            format!("$JS.API.CONSUMER.DURABLE.CREATE.{stream}.*"),
            format!("$JS.API.CONSUMER.INFO.{stream}.*"),
            format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.*"),
            format!("$JS.ACK.{stream}.>"),
        ]);
    }
    subjects
}

/// The whole `permissions.conf`: an `authorization` block with one entry per user.
pub fn permissions_conf(handlers: &[HandlerDef]) -> String {
    let mut out = String::from(
        "# GENERATED from the handler registry by nats/src/lib.rs; do not edit by hand.\n\
         # Regenerate: BLESS=1 cargo test -p nats-config --test permissions\n\
         #\n\
         # Passwords are server variables, resolved from the server's environment (or from a\n\
         # file included before this one): plaintext or a bcrypt hash (`$2a$...`). They are never\n\
         # in git; see the README's \"Security model\".\n\
         authorization {\n  users = [\n",
    );
    for user in USERS {
        let p = permissions(user, handlers);
        let _ = writeln!(
            out,
            "    {{\n      user: {}\n      password: ${}\n      permissions: {{",
            user.name, user.password_var
        );
        write_list(&mut out, "publish", &p.publish);
        write_list(&mut out, "subscribe", &p.subscribe);
        if p.responds {
            out.push_str("        allow_responses: true\n");
        }
        out.push_str("      }\n    }\n");
    }
    out.push_str("  ]\n}\n");
    out
}

fn write_list(out: &mut String, verb: &str, subjects: &BTreeSet<String>) {
    let _ = writeln!(out, "        {verb}: {{ allow: [");
    for subject in subjects {
        let _ = writeln!(out, "          \"{subject}\"");
    }
    out.push_str("        ] }\n");
}
