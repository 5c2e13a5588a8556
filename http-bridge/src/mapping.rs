//! HTTP request to handler input: path params, query and JSON body merged into one object.

use bytes::Bytes;
use runtime::ApiError;
use serde_json::{Map, Value};

/// Merges the request's parts; path params win, then query values, then body fields.
pub fn input(
    path_params: &[(String, String)],
    query: Option<&str>,
    body: &Bytes,
) -> Result<Bytes, ApiError> {
    let mut object = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(object)) => object,
            Ok(_) => {
                return Err(ApiError::BadRequest(
                    "request body must be a JSON object".into(),
                ));
            }
            Err(err) => {
                return Err(ApiError::BadRequest(format!(
                    "request body is not valid JSON: {err}"
                )));
            }
        }
    };
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        object.insert(key.into_owned(), typed(&value));
    }
    for (key, value) in path_params {
        object.insert(key.clone(), Value::String(decode(value)?));
    }
    serde_json::to_vec(&object)
        .map(Bytes::from)
        .map_err(ApiError::internal)
}

/// Query strings carry no types: numbers and booleans are given theirs so `page=2` arrives as 2.
fn typed(value: &str) -> Value {
    if let Ok(n) = value.parse::<i64>() {
        return Value::from(n);
    }
    if let Ok(f) = value.parse::<f64>()
        && f.is_finite()
    {
        return Value::from(f);
    }
    match value {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        other => Value::String(other.to_owned()),
    }
}

fn decode(raw: &str) -> Result<String, ApiError> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "path segment '{}' is not UTF-8",
                runtime::wire::excerpt(raw)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(params: &[(&str, &str)], query: Option<&str>, body: &str) -> Result<Value, ApiError> {
        let params: Vec<_> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        input(&params, query, &Bytes::from(body.to_owned()))
            .map(|b| serde_json::from_slice(&b).unwrap())
    }

    #[test]
    fn query_numbers_and_booleans_are_typed() {
        let value = merged(
            &[],
            Some("page=2&limit=10&draft=true&tag=rust%20lang&q=a+b"),
            "",
        )
        .unwrap();
        assert_eq!(
            value,
            serde_json::json!({"page": 2, "limit": 10, "draft": true, "tag": "rust lang", "q": "a b"})
        );
    }

    #[test]
    fn path_params_win_over_body_fields() {
        let value = merged(&[("id", "42")], None, r#"{"id": "other", "title": "t"}"#).unwrap();
        assert_eq!(value, serde_json::json!({"id": "42", "title": "t"}));
    }

    #[test]
    fn non_object_body_is_rejected() {
        assert_eq!(merged(&[], None, "[1]").unwrap_err().code(), 400);
        assert_eq!(merged(&[], None, "{nope").unwrap_err().code(), 400);
    }
}
