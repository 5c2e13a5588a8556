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
    let no_body = body.iter().all(u8::is_ascii_whitespace);
    if no_body && query.is_none() && distinct(path_params) {
        return params_only(path_params);
    }
    let mut object = if no_body {
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

/// The common GET (`/blog/id/:id`): the params written straight out, without building a map.
fn params_only(path_params: &[(String, String)]) -> Result<Bytes, ApiError> {
    let mut json = Vec::with_capacity(
        2 + path_params
            .iter()
            .map(|(k, v)| k.len() + v.len() + 6)
            .sum::<usize>(),
    );
    json.push(b'{');
    for (index, (key, value)) in path_params.iter().enumerate() {
        if index > 0 {
            json.push(b',');
        }
        serde_json::to_writer(&mut json, key).map_err(ApiError::internal)?;
        json.push(b':');
        serde_json::to_writer(&mut json, &*decoded(value)?).map_err(ApiError::internal)?;
    }
    json.push(b'}');
    Ok(json.into())
}

/// Whether no param name repeats (a repeat goes through the map, where the last one wins).
fn distinct(path_params: &[(String, String)]) -> bool {
    path_params
        .iter()
        .enumerate()
        .all(|(i, (key, _))| path_params[..i].iter().all(|(other, _)| other != key))
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
    decoded(raw).map(std::borrow::Cow::into_owned)
}

fn decoded(raw: &str) -> Result<std::borrow::Cow<'_, str>, ApiError> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
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
    fn params_alone_are_written_as_the_map_would_write_them() {
        let params = [("id", "6744b3f0"), ("slug", "caf%C3%A9 \"quoted\"")];
        let value = merged(&params, None, "").unwrap();
        assert_eq!(
            value,
            serde_json::json!({"id": "6744b3f0", "slug": "café \"quoted\""})
        );
        assert_eq!(merged(&[("id", "%FF")], None, "").unwrap_err().code(), 400);
    }

    #[test]
    fn non_object_body_is_rejected() {
        assert_eq!(merged(&[], None, "[1]").unwrap_err().code(), 400);
        assert_eq!(merged(&[], None, "{nope").unwrap_err().code(), 400);
    }
}
