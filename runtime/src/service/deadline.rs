//! The caller's deadline (`X-Deadline`): skip requests nobody waits for, stop handlers when it passes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_nats::HeaderMap;

use crate::error::ApiError;
use crate::wire;

/// How long a handler may run: its own timeout, cut short by the caller's deadline when sooner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Budget {
    /// Time left for the handler.
    pub(crate) limit: Duration,
    /// Whether the caller's deadline (not the handler timeout) sets `limit`.
    pub(crate) by_deadline: bool,
}

/// The budget of a request; a request that arrives past its deadline is a 504 without running.
pub(crate) fn budget(
    headers: Option<&HeaderMap>,
    timeout: Duration,
    now: SystemTime,
) -> Result<Budget, ApiError> {
    let Some(deadline) = headers
        .and_then(|h| h.get(wire::DEADLINE))
        .and_then(|v| v.as_str().trim().parse::<u64>().ok())
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
    else {
        return Ok(Budget {
            limit: timeout,
            by_deadline: false,
        });
    };
    match deadline.duration_since(now) {
        Ok(left) if !left.is_zero() => Ok(if left < timeout {
            Budget {
                limit: left,
                by_deadline: true,
            }
        } else {
            Budget {
                limit: timeout,
                by_deadline: false,
            }
        }),
        _ => Err(ApiError::Timeout(
            "the request arrived after its deadline; it was not run".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_deadline(at: SystemTime) -> HeaderMap {
        let ms = at
            .duration_since(UNIX_EPOCH)
            .expect("after epoch")
            .as_millis();
        let mut headers = HeaderMap::new();
        headers.insert(wire::DEADLINE, ms.to_string().as_str());
        headers
    }

    #[test]
    fn no_deadline_leaves_the_handler_timeout() {
        let budget = budget(None, Duration::from_secs(5), SystemTime::now()).expect("runs");
        assert_eq!(budget.limit, Duration::from_secs(5));
    }

    #[test]
    fn a_sooner_deadline_cuts_the_budget() {
        let now = SystemTime::now();
        let headers = with_deadline(now + Duration::from_secs(1));
        let budget = budget(Some(&headers), Duration::from_secs(5), now).expect("runs");
        assert!(budget.by_deadline && budget.limit <= Duration::from_secs(1));
    }

    #[test]
    fn a_request_past_its_deadline_is_504_without_running() {
        let now = SystemTime::now();
        let headers = with_deadline(now - Duration::from_millis(1));
        let err = budget(Some(&headers), Duration::from_secs(5), now).expect_err("skipped");
        assert_eq!(err.code(), 504);
    }
}
