//! Recent answers per source, for the status page: the last accepted delivery, the last refused
//! one with its reason code, and answers per outcome in one-minute buckets over the last hour.
//! Recording is one short lock per answer, taken after the answer is decided; nothing here is
//! on the path that decides it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

/// Minutes the per-outcome counts cover.
const WINDOW_MINUTES: usize = 60;

/// Answers of one minute, per outcome.
#[derive(Debug, Default, Clone)]
struct Minute {
    /// Minutes since the Unix epoch.
    at: i64,
    counts: Vec<(&'static str, u64)>,
}

/// One source's recent activity.
#[derive(Debug, Default)]
struct SourceActivity {
    last_accepted_ms: Option<i64>,
    last_refused: Option<(i64, &'static str)>,
    minutes: Vec<Minute>,
}

impl SourceActivity {
    fn record(&mut self, outcome: &'static str, refusal: Option<&'static str>, now_ms: i64) {
        if outcome == "accepted" {
            self.last_accepted_ms = Some(now_ms);
        }
        if let Some(code) = refusal {
            self.last_refused = Some((now_ms, code));
        }
        let minute = now_ms.div_euclid(60_000);
        if self.minutes.len() < WINDOW_MINUTES {
            self.minutes.resize(WINDOW_MINUTES, Minute::default());
        }
        let slot = &mut self.minutes[minute.rem_euclid(WINDOW_MINUTES as i64) as usize];
        if slot.at != minute {
            *slot = Minute {
                at: minute,
                counts: Vec::new(),
            };
        }
        match slot.counts.iter_mut().find(|(o, _)| *o == outcome) {
            Some((_, n)) => *n += 1,
            None => slot.counts.push((outcome, 1)),
        }
    }

    /// Answers per outcome in the hour up to `now_ms`.
    fn last_hour(&self, now_ms: i64) -> BTreeMap<&'static str, u64> {
        let minute = now_ms.div_euclid(60_000);
        let mut out = BTreeMap::new();
        for m in &self.minutes {
            if m.at > minute - WINDOW_MINUTES as i64 && m.at <= minute {
                for (o, n) in &m.counts {
                    *out.entry(*o).or_default() += n;
                }
            }
        }
        out
    }
}

/// Recent activity of every source that answered since start-up.
#[derive(Debug, Default)]
pub struct Activity {
    sources: RwLock<HashMap<String, Arc<Mutex<SourceActivity>>>>,
}

/// One source's figures, as the page shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFigures {
    pub last_accepted_ms: Option<i64>,
    pub last_refused: Option<(i64, &'static str)>,
    pub last_hour: BTreeMap<&'static str, u64>,
}

impl Activity {
    /// Records one answer: its outcome (`accepted`, `duplicate`, `dead_letter`, an error code…)
    /// and, for a refusal (an error answer or a dead letter), its reason code.
    pub fn record(
        &self,
        source: &str,
        outcome: &'static str,
        refusal: Option<&'static str>,
        now_ms: i64,
    ) {
        let existing = self
            .sources
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(source)
            .cloned();
        let entry = match existing {
            Some(e) => e,
            None => self
                .sources
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .entry(source.to_owned())
                .or_default()
                .clone(),
        };
        entry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(outcome, refusal, now_ms);
    }

    /// The figures of `source` at `now_ms` (all empty when it has not answered yet).
    pub fn figures(&self, source: &str, now_ms: i64) -> SourceFigures {
        let entry = self
            .sources
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(source)
            .cloned();
        match entry {
            None => SourceFigures {
                last_accepted_ms: None,
                last_refused: None,
                last_hour: BTreeMap::new(),
            },
            Some(e) => {
                let a = e.lock().unwrap_or_else(|e| e.into_inner());
                SourceFigures {
                    last_accepted_ms: a.last_accepted_ms,
                    last_refused: a.last_refused,
                    last_hour: a.last_hour(now_ms),
                }
            }
        }
    }
}
