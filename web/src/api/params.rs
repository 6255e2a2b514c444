//! Request parameters from the query string and, for POST, a
//! form-encoded body, as Prometheus reads them (both are merged).

use super::{bad, ApiError};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap};

/// The most a request body may take, as Go's form parsing allows
/// (Prometheus answers a larger one with this same error).
pub const MAX_FORM_BODY: usize = 10 << 20;

/// A request body, read whole. One that is too large or cannot be read is
/// Prometheus's `bad_data` error, never a plain-text rejection.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Bytes::from_request(req, state).await {
            Ok(b) => Ok(Body(b)),
            Err(e) => Err(bad(format!("error parsing form values: {}", e.body_text()))),
        }
    }
}

/// The most `match[]` (or other repeated) parameters accepted in one request.
const MAX_PARAMS: usize = 100_000;

pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn new(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<Self, ApiError> {
        let mut pairs = Vec::new();
        if let Some(q) = query {
            pairs.extend(form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())));
        }
        let form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if form && !body.is_empty() {
            if std::str::from_utf8(body).is_err() {
                return Err(bad("invalid form body: not valid UTF-8"));
            }
            pairs.extend(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())));
        }
        if pairs.len() > MAX_PARAMS {
            return Err(bad(format!("too many parameters (more than {MAX_PARAMS})")));
        }
        Ok(Params { pairs })
    }

    /// The first value of `name` (non-empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}
