//! Prometheus metrics: requests by route and status, latency by route, routes, conflicts, connections.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// The bridge's counters, shared by every connection.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    conflicts: Counter,
    routes: Gauge,
    connections: Gauge,
    refused_connections: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.000_25, 2.0, 16)));
        registry.register(
            "bridge_http_requests",
            "HTTP requests by method, route template and status",
            requests.clone(),
        );
        registry.register(
            "bridge_http_request_duration_seconds",
            "Time from request to response by route template",
            latency.clone(),
        );
        let conflicts = Counter::default();
        registry.register(
            "bridge_route_conflicts",
            "Route claims refused because another service or subject owns the method and path",
            conflicts.clone(),
        );
        let routes = Gauge::default();
        registry.register("bridge_routes", "Routes in the table", routes.clone());
        let connections = Gauge::default();
        registry.register(
            "bridge_open_connections",
            "HTTP connections open now",
            connections.clone(),
        );
        let refused_connections = Counter::default();
        registry.register(
            "bridge_refused_connections",
            "Connections answered 503 and closed because the connection cap was reached",
            refused_connections.clone(),
        );
        Self {
            registry: Arc::new(registry),
            requests,
            latency,
            conflicts,
            routes,
            connections,
            refused_connections,
        }
    }
}

impl Metrics {
    /// Records one answered request; `route` is the template (`/blog/id/:id`), never the raw path.
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts route claims refused this discovery round.
    pub fn route_conflicts(&self, refused: u64) {
        self.conflicts.inc_by(refused);
    }

    /// Records the size of the route table.
    pub fn routes(&self, count: usize) {
        self.routes.set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// Records the number of open connections.
    pub fn connections(&self, open: usize) {
        self.connections
            .set(i64::try_from(open).unwrap_or(i64::MAX));
    }

    /// Counts a connection turned away at the cap.
    pub fn refused_connection(&self) {
        self.refused_connections.inc();
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
