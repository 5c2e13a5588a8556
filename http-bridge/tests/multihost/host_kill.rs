//! A whole host killed under keyed write load: what failed, what was lost, how soon writes
//! were answered again.

use std::fmt;
use std::time::Duration;

use crate::load::{Kind, Load, Outcome, Target, acknowledged, failures, lost_writes};
use crate::platform::{FUNCTIONS, Platform};

/// What the load saw around the kill.
pub struct Report {
    outcomes: Vec<Vec<Outcome>>,
    /// Since the load started: the SIGKILL, and every process of the host gone.
    killed_at: Duration,
    dead_at: Duration,
    lost: Vec<String>,
}

/// Runs `workers` keyed writers, kills every process of `host` at once (its functions and its
/// NATS node, one SIGKILL each) 1.5 s in, keeps the load on for `after` more.
pub async fn under_write_load(
    platform: &mut Platform,
    target: &Target,
    host: usize,
    workers: usize,
    after: Duration,
) -> Report {
    let load = Load::start(target, &vec![Kind::Write; workers]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut dying: Vec<_> = FUNCTIONS
        .iter()
        .map(|name| platform.take_function(name, host))
        .collect();
    dying.push(platform.take_node(host));
    let pids: Vec<String> = dying.iter().map(|p| p.pid().to_string()).collect();
    let killed_at = load.start.elapsed();
    let killed = std::process::Command::new("kill")
        .arg("-KILL")
        .args(&pids)
        .status()
        .expect("kill runs");
    assert!(killed.success(), "cannot kill host {host}'s processes");
    for process in &mut dying {
        process.kill();
    }
    let dead_at = load.start.elapsed();
    tokio::time::sleep(after).await;
    let outcomes = load.finish().await;
    let lost = lost_writes(target, &outcomes)
        .await
        .into_iter()
        .map(str::to_owned)
        .collect();
    Report {
        outcomes,
        killed_at,
        dead_at,
        lost,
    }
}

impl Report {
    fn all(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().flatten()
    }

    /// Sent before every process of the host was gone, answered after the kill.
    fn in_flight_at_kill(&self, o: &Outcome) -> bool {
        o.sent <= self.dead_at && o.done >= self.killed_at
    }

    /// Failures other than requests in flight while the host died.
    fn failed_out_of_flight(&self) -> usize {
        self.all()
            .filter(|o| !o.ok() && !self.in_flight_at_kill(o))
            .count()
    }

    /// From the kill until the last request that failed or took over 2 s was answered: how
    /// long the host's loss was felt.
    fn felt_for(&self) -> Duration {
        self.all()
            .filter(|o| o.done >= self.killed_at)
            .filter(|o| !o.ok() || o.done - o.sent > Duration::from_secs(2))
            .map(|o| o.done - self.killed_at)
            .max()
            .unwrap_or_default()
    }

    /// The slowest answer to a request sent after every process of the host was gone.
    fn slowest_after(&self) -> Duration {
        self.all()
            .filter(|o| o.sent > self.dead_at)
            .map(|o| o.done - o.sent)
            .max()
            .unwrap_or_default()
    }

    /// Every 2xx-acknowledged write can be read back.
    pub fn assert_no_acknowledged_write_lost(&self) {
        assert!(
            self.lost.is_empty(),
            "acknowledged writes lost: {:?}",
            self.lost
        );
    }

    /// Only requests in flight at the kill failed, at most one per worker.
    pub fn assert_failed_only_in_flight(&self, workers: usize) {
        let failed = failures(&self.outcomes);
        assert!(
            self.failed_out_of_flight() == 0 && failed.len() <= workers,
            "failures beyond the {workers} requests in flight at the kill: {failed:#?}"
        );
    }

    /// The service is back within `limit` of the kill: every request sent after it was answered
    /// within `limit` of the kill or of its sending, whichever came later, and every one sent
    /// `limit` after the kill succeeded.
    pub fn assert_back_within(&self, limit: Duration, platform: &Platform) {
        let back_at = self.killed_at + limit;
        assert!(
            self.all().any(|o| o.sent > back_at),
            "the load went on past {limit:?} after the kill"
        );
        let late: Vec<String> = self
            .all()
            .filter(|o| o.sent > self.dead_at)
            .filter(|o| {
                o.done > o.sent.max(self.killed_at) + limit || (o.sent > back_at && !o.ok())
            })
            .map(|o| {
                format!(
                    "sent at {:?}: {} at {:?} {}",
                    o.sent, o.status, o.done, o.body
                )
            })
            .collect();
        assert!(
            late.is_empty(),
            "writes not answered within {limit:?} of the kill at {:?}: {late:#?}; logs in {}",
            self.killed_at,
            platform.logs()
        );
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "processes gone within {:?}; {} writes acknowledged, {} lost; {} failed ({} not in \
             flight at the kill); loss felt for {:?}; slowest request sent after the kill took {:?}",
            self.dead_at - self.killed_at,
            acknowledged(&self.outcomes).len(),
            self.lost.len(),
            failures(&self.outcomes).len(),
            self.failed_out_of_flight(),
            self.felt_for(),
            self.slowest_after()
        )
    }
}
