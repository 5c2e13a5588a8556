//! The gomicro-compatible response envelope around every answer.

use bytes::Bytes;
use serde::Serialize;

/// `code` of a successful response.
pub const SUCCESS_CODE: &str = "10000";
/// `code` of a failed response.
pub const FAILURE_CODE: &str = "10001";

/// Wraps a handler's JSON reply without parsing it again.
pub fn success(data: &[u8]) -> Bytes {
    let data: &[u8] = if data.is_empty() { b"null" } else { data };
    let head = br#"{"code":"10000","status":200,"message":"success","data":"#;
    let mut body = Vec::with_capacity(head.len() + data.len() + 1);
    body.extend_from_slice(head);
    body.extend_from_slice(data);
    body.push(b'}');
    body.into()
}

#[derive(Serialize)]
struct Failure<'a> {
    code: &'static str,
    status: u16,
    message: &'a str,
}

/// The envelope of an error, saying what went wrong.
pub fn failure(status: u16, message: &str) -> Bytes {
    serde_json::to_vec(&Failure {
        code: FAILURE_CODE,
        status,
        message,
    })
    .unwrap_or_default()
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_wraps_the_raw_reply() {
        let body: serde_json::Value = serde_json::from_slice(&success(br#"{"a":1}"#)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"code": SUCCESS_CODE, "status": 200, "message": "success", "data": {"a": 1}})
        );
    }
}
