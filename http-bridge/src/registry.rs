//! Which service owns which route, across discovery rounds: sticky routes and first-owner-wins.

use std::collections::{BTreeMap, HashMap, HashSet};

use runtime::wire::discovery::InfoResponse;
use runtime::wire::meta;

use crate::routes::{Route, RouteTable};

/// What one service last declared, and how many rounds in a row it has been silent.
struct Service {
    routes: Vec<Route>,
    instances: HashSet<String>,
    silent_rounds: u32,
}

/// Who holds a method + path: the service name and subject of its first claimant.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Owner {
    service: String,
    subject: String,
}

/// The bridge's memory of services, so one short or empty round never drops a live route.
pub struct Registry {
    services: BTreeMap<String, Service>,
    owners: HashMap<(String, String), Owner>,
    refused: HashSet<(String, String, Owner)>,
    forget_after: u32,
}

/// What a round changed, for logs and metrics.
pub struct Outcome {
    /// The table to serve from now on.
    pub table: RouteTable,
    /// Claims refused for the first time this round (each distinct claim counts once).
    pub new_conflicts: u64,
}

impl Registry {
    /// A registry that forgets a service after `forget_after` consecutive silent rounds (at least 1).
    pub fn new(forget_after: u32) -> Self {
        Self {
            services: BTreeMap::new(),
            owners: HashMap::new(),
            refused: HashSet::new(),
            forget_after: forget_after.max(1),
        }
    }

    /// Instance ids that answered last time; a round may end once all of them answered again.
    pub fn known_instances(&self) -> HashSet<String> {
        self.services
            .values()
            .flat_map(|s| s.instances.iter().cloned())
            .collect()
    }

    /// Folds one round's INFO replies in and returns the table to serve.
    pub fn apply(&mut self, infos: &[InfoResponse]) -> Outcome {
        let mut answered: BTreeMap<String, Service> = BTreeMap::new();
        for info in infos {
            let entry = answered
                .entry(info.identity.name.clone())
                .or_insert_with(|| Service {
                    routes: Vec::new(),
                    instances: HashSet::new(),
                    silent_rounds: 0,
                });
            entry.instances.insert(info.identity.id.clone());
            for route in routes_of(info) {
                if !entry
                    .routes
                    .iter()
                    .any(|r| r.method == route.method && r.path == route.path)
                {
                    entry.routes.push(route);
                }
            }
        }
        for (name, service) in &mut self.services {
            if !answered.contains_key(name) {
                service.silent_rounds += 1;
                service.instances.clear();
            }
        }
        let forget_after = self.forget_after;
        self.services.retain(|name, service| {
            let keep = service.silent_rounds < forget_after;
            if !keep {
                tracing::info!(service = %name, rounds = service.silent_rounds, "service silent; its routes leave");
            }
            keep
        });
        self.services.extend(answered);

        // Owners keep their routes while their service is remembered and still declares them.
        let services = &self.services;
        self.owners.retain(|(method, path), owner| {
            services.get(&owner.service).is_some_and(|s| {
                s.routes
                    .iter()
                    .any(|r| &r.method == method && &r.path == path && r.subject == owner.subject)
            })
        });
        let mut new_conflicts = 0;
        let mut owned = Vec::new();
        for (name, service) in &self.services {
            for route in &service.routes {
                let key = (route.method.clone(), route.path.clone());
                let claim = Owner {
                    service: name.clone(),
                    subject: route.subject.clone(),
                };
                let owner = self
                    .owners
                    .entry(key.clone())
                    .or_insert_with(|| claim.clone());
                if *owner == claim {
                    owned.push(route.clone());
                } else if self.refused.insert((key.0, key.1, claim.clone())) {
                    new_conflicts += 1;
                    tracing::warn!(
                        method = %route.method, path = %route.path,
                        owner = %owner.service, owner_subject = %owner.subject,
                        claimant = %claim.service, claimant_subject = %claim.subject,
                        "refused a conflicting route claim; the first owner keeps it"
                    );
                }
            }
        }
        Outcome {
            table: RouteTable::from_routes(owned),
            new_conflicts,
        }
    }
}

/// The REST routes one INFO reply declares.
fn routes_of(info: &InfoResponse) -> Vec<Route> {
    info.endpoints
        .iter()
        .filter_map(|endpoint| {
            let method = endpoint.metadata.get(meta::HTTP_METHOD)?;
            let path = endpoint.metadata.get(meta::HTTP_PATH)?;
            let text = |key: &str| endpoint.metadata.get(key).cloned();
            Some(Route {
                method: method.to_uppercase(),
                path: path.clone(),
                subject: endpoint.subject.clone(),
                service: info.identity.name.clone(),
                roles: text(meta::ROLES)
                    .map(|r| {
                        r.split(',')
                            .filter(|r| !r.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                auth: text(meta::AUTH).unwrap_or_else(|| "public".into()),
                description: text(meta::DESCRIPTION).unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(service: &str, id: &str, subject: &str, path: &str) -> InfoResponse {
        serde_json::from_value(serde_json::json!({
            "type": "io.nats.micro.v1.info_response",
            "name": service, "id": id, "version": "1.0.0", "metadata": {},
            "description": "",
            "endpoints": [{"name": subject, "subject": subject, "queue_group": "q",
                "metadata": {"http.method": "GET", "http.path": path}}],
        }))
        .expect("valid INFO")
    }

    fn paths(outcome: &Outcome) -> Vec<(String, String)> {
        outcome
            .table
            .routes()
            .iter()
            .map(|r| (r.path.clone(), r.subject.clone()))
            .collect()
    }

    #[test]
    fn a_silent_service_keeps_its_routes_until_the_last_allowed_round() {
        let mut registry = Registry::new(3);
        registry.apply(&[info("blog", "a", "blog.list", "/blog")]);
        assert_eq!(paths(&registry.apply(&[])).len(), 1);
        assert_eq!(paths(&registry.apply(&[])).len(), 1);
        assert!(paths(&registry.apply(&[])).is_empty());
    }

    #[test]
    fn a_conflicting_claim_is_refused_and_counted_once() {
        let mut registry = Registry::new(3);
        let owner = info("blog", "a", "blog.list", "/blog");
        let rogue = info("rogue", "r", "rogue.steal", "/blog");
        registry.apply(std::slice::from_ref(&owner));
        let first = registry.apply(&[rogue.clone(), owner.clone()]);
        let second = registry.apply(&[rogue, owner]);
        assert_eq!(paths(&first), vec![("/blog".into(), "blog.list".into())]);
        assert_eq!((first.new_conflicts, second.new_conflicts), (1, 0));
    }
}
