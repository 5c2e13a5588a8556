//! An OpenAPI 3 document generated from the discovered routes.

use serde_json::{Map, Value, json};

use crate::routes::Route;

/// The document for `GET /openapi.json`.
pub fn document(routes: &[Route]) -> Value {
    let mut paths = Map::new();
    for route in routes {
        let path = crate::routes::matchit_path(&route.path);
        let parameters: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix(':'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut security = vec![json!({"apiKey": []})];
        if route.auth == "bearer" {
            security = vec![json!({"apiKey": [], "bearer": route.roles})];
        }
        let operation = json!({
            "operationId": route.subject,
            "summary": route.description,
            "tags": [route.service],
            "parameters": parameters,
            "security": security,
            "x-nats-subject": route.subject,
            "x-roles": route.roles,
            "responses": {
                "200": {"description": "success envelope: {code, status, message, data}"},
                "default": {"description": "error envelope: {code, status, message}"}
            }
        });
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        if let Value::Object(methods) = entry {
            methods.insert(route.method.to_lowercase(), operation);
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "nats-blog API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {"securitySchemes": {
            "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        }}
    })
}
