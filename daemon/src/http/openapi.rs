//! The OpenAPI 3.1 document, written from the route table at each request
//! (it is small), so it says exactly what the router serves.

use axum::Json;
use serde_json::{Map, Value, json};

use super::routes::{ROUTES, Route};

pub async fn document() -> Json<Value> {
    Json(build(ROUTES))
}

pub fn build(routes: &[Route]) -> Value {
    let mut paths = Map::new();
    for route in routes {
        // OpenAPI names a path parameter `{rest}`, not the router's `{*rest}`.
        let path = route.path.replace("{*", "{");
        let item = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        // nkvd's routes take any method: each is listed.
        let methods = match route.method {
            "ANY" => vec!["GET", "PUT", "POST", "PATCH", "DELETE"],
            one => vec![one],
        };
        for method in methods {
            item[method.to_ascii_lowercase()] = operation(route, method);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "syncdb HTTP API",
            "version": crate::VERSION,
            "description": "Documents, bulk import and the change feed of a syncdb daemon. Over TCP every request needs a token (Bearer, or Basic with the token as the password); over the daemon's http.sock none. Errors are {\"error\": {\"status\", \"code\", \"message\"}}.",
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "basic": { "type": "http", "scheme": "basic" },
            },
        },
        "security": [ { "bearer": [] }, { "basic": [] } ],
        "paths": paths,
    })
}

fn operation(route: &Route, method: &str) -> Value {
    let mut parameters = Vec::new();
    for segment in route.path.split('/') {
        if let Some(name) = segment
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .map(|s| s.trim_start_matches('*'))
        {
            parameters.push(json!({
                "name": name, "in": "path", "required": true, "schema": { "type": "string" },
            }));
        }
    }
    for (name, description) in route.query {
        parameters.push(json!({
            "name": name, "in": "query", "required": false,
            "description": description, "schema": { "type": "string" },
        }));
    }
    let responses: Map<String, Value> = route
        .responses
        .iter()
        .map(|(code, why)| (code.to_string(), json!({ "description": why })))
        .collect();
    let id: String = format!("{method} {}", route.path)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut op = json!({
        "summary": route.summary,
        "operationId": id,
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(media) = route.body {
        op["requestBody"] = json!({ "required": true, "content": { media: {} } });
    }
    if !route.token {
        op["security"] = json!([]);
    }
    op
}
