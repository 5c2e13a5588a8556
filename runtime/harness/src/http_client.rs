//! A plain HTTP/1 client for tests that talk to the bridge the way a user's client would.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// A pooled HTTP/1 client (keep-alive, as browsers and Kong use it).
#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
}

/// What came back: status, headers and the whole body.
#[derive(Debug)]
pub struct HttpReply {
    /// The response status.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body, read to the end.
    pub body: Bytes,
}

impl HttpReply {
    /// The body as JSON; `Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

impl Http {
    /// A client with its own connection pool.
    pub fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends `body` with exactly `headers`; panics when the server does not answer at all.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: impl Into<Bytes>,
        headers: &[(&str, &str)],
    ) -> HttpReply {
        let mut request = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(body.into()))
            .unwrap_or_else(|err| panic!("cannot build a request to {url}: {err}"));
        let response = self
            .client
            .request(request)
            .await
            .unwrap_or_else(|err| panic!("{url} does not answer: {err}"));
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap_or_else(|err| panic!("cannot read the body from {url}: {err}"))
            .to_bytes();
        HttpReply {
            status,
            headers,
            body,
        }
    }
}
