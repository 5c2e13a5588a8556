//! The route table: HTTP method and path to NATS subject, looked up per request.

use std::collections::BTreeMap;

use http::Method;
use serde::Serialize;

/// One REST route a handler declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    /// HTTP method, upper-case.
    pub method: String,
    /// Path as declared, with `:param` segments.
    pub path: String,
    /// Subject the request is sent to.
    pub subject: String,
    /// Service that declared it.
    pub service: String,
    /// Roles of which the caller needs one.
    pub roles: Vec<String>,
    /// `public`, `optional` or `bearer`.
    pub auth: String,
    /// The handler's doc comment.
    pub description: String,
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup<'a> {
    /// The route and its path parameters.
    Found(&'a Route, Vec<(String, String)>),
    /// The path exists under other methods (for 405 with `Allow`).
    WrongMethod(Vec<String>),
    /// No route has this path.
    NotFound,
}

/// Routes by method, matched with `matchit`.
#[derive(Default)]
pub struct RouteTable {
    routes: Vec<Route>,
    routers: BTreeMap<String, matchit::Router<usize>>,
}

impl RouteTable {
    /// Builds the table from owned routes (see `registry`); paths matchit cannot tell apart keep the first.
    pub fn from_routes(mut routes: Vec<Route>) -> Self {
        routes.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
        let mut table = Self {
            routes,
            routers: BTreeMap::new(),
        };
        table.reindex();
        table
    }

    fn reindex(&mut self) {
        self.routers.clear();
        let mut kept = Vec::with_capacity(self.routes.len());
        for route in std::mem::take(&mut self.routes) {
            let router = self.routers.entry(route.method.clone()).or_default();
            match router.insert(matchit_path(&route.path), kept.len()) {
                Ok(()) => kept.push(route),
                Err(err) => {
                    tracing::warn!(path = %route.path, subject = %route.subject, %err, "route conflicts; ignored")
                }
            }
        }
        self.routes = kept;
    }

    /// Every route, sorted by path then method.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Whether any route is known.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Finds the route for a request.
    pub fn lookup(&self, method: &Method, path: &str) -> Lookup<'_> {
        if let Some(found) = self
            .routers
            .get(method.as_str())
            .and_then(|r| r.at(path).ok())
        {
            let params = found
                .params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            return Lookup::Found(&self.routes[*found.value], params);
        }
        let allowed: Vec<String> = self
            .routers
            .iter()
            .filter(|(_, router)| router.at(path).is_ok())
            .map(|(method, _)| method.clone())
            .collect();
        if allowed.is_empty() {
            Lookup::NotFound
        } else {
            Lookup::WrongMethod(allowed)
        }
    }
}

/// `/blog/id/:id` -> `/blog/id/{id}`, the syntax matchit wants.
pub fn matchit_path(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colon_params_become_braces() {
        assert_eq!(matchit_path("/blog/id/:id"), "/blog/id/{id}");
        assert_eq!(matchit_path("/blog/list/latest"), "/blog/list/latest");
    }
}
