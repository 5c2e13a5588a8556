//! Handler output that is already JSON: a warm cache's bytes go out as they are, not parsed and
//! serialised again on every read.

use std::marker::PhantomData;

use bytes::Bytes;
use serde::Serialize;

use crate::error::ApiError;

/// The JSON encoding of a `T`, returned by a handler instead of the `T` itself.
///
/// A handler that answers from a cache of encoded values returns this, so a read costs a reference
/// count instead of a parse and a serialisation; the type parameter keeps the handler's signature
/// saying what the reply is.
///
/// ```
/// use runtime::{ApiError, Encoded, handler};
///
/// #[derive(serde::Serialize)]
/// struct Greeting { text: String }
///
/// #[handler(subject = "greet.cached")]
/// async fn cached() -> Result<Encoded<Greeting>, ApiError> {
///     Ok(Encoded::from_json(r#"{"text":"hello"}"#.into()))
/// }
/// # fn main() {}
/// ```
pub struct Encoded<T> {
    json: Bytes,
    of: PhantomData<fn() -> T>,
}

impl<T> Encoded<T> {
    /// Bytes the caller vouches are the JSON of a `T` (what [`Encoded::encode`] made, kept by a cache).
    pub fn from_json(json: Bytes) -> Self {
        Self {
            json,
            of: PhantomData,
        }
    }

    /// The JSON, to store in a cache (a clone shares the bytes).
    pub fn json(&self) -> &Bytes {
        &self.json
    }
}

impl<T: Serialize> Encoded<T> {
    /// Serialises `value` once, for a cache to keep and later reads to send as they are.
    pub fn encode(value: &T) -> Result<Self, ApiError> {
        serde_json::to_vec(value)
            .map(|json| Self::from_json(json.into()))
            .map_err(|err| ApiError::internal(format!("cannot serialise reply: {err}")))
    }
}

impl<T> Clone for Encoded<T> {
    fn clone(&self) -> Self {
        Self::from_json(self.json.clone())
    }
}

impl<T> std::fmt::Debug for Encoded<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoded")
            .field("bytes", &self.json.len())
            .finish()
    }
}

/// What a handler may return: any serialisable value, or JSON already encoded.
pub trait ToPayload {
    /// The reply payload.
    fn to_payload(&self) -> Result<Bytes, ApiError>;
}

impl<T: Serialize + ?Sized> ToPayload for T {
    fn to_payload(&self) -> Result<Bytes, ApiError> {
        serde_json::to_vec(self)
            .map(Bytes::from)
            .map_err(|err| ApiError::internal(format!("cannot serialise reply: {err}")))
    }
}

impl<T> ToPayload for Encoded<T> {
    fn to_payload(&self) -> Result<Bytes, ApiError> {
        Ok(self.json.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_output_is_sent_as_is_and_matches_serialising() {
        let value = serde_json::json!({"id": "a", "tags": ["x"], "n": 1});
        let encoded = Encoded::encode(&value).unwrap();
        assert_eq!(encoded.to_payload().unwrap(), value.to_payload().unwrap());
        let cached: Encoded<serde_json::Value> = Encoded::from_json(encoded.json().clone());
        assert_eq!(
            cached.to_payload().unwrap().as_ptr(),
            encoded.json().as_ptr(),
            "a cached reply is shared, not copied"
        );
    }
}
