//! The status page: the server-rendered HTML of `GET /status` on the admin listener (no
//! scripts, no build step; every value escaped), from the rows the admin API gathers and the
//! figures [`crate::ingest::activity::Activity`] records.

use std::fmt::Write as _;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::ingest::activity::SourceFigures;

/// One row of the page.
#[derive(Debug)]
pub struct Row {
    pub id: String,
    pub provider: String,
    pub read_only: bool,
    pub figures: SourceFigures,
}

/// The broker and spool state the page shows.
#[derive(Debug)]
pub struct Plant {
    /// `None` until the first probe.
    pub kafka_up: Option<bool>,
    pub kafka_checked_ms: Option<i64>,
    /// `None` when there is no spool.
    pub spool: Option<(u64, u64, u64)>,
}

fn text(s: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_text(s)
}

fn attr(s: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_double_quoted_attribute(s)
}

fn when(ms: Option<i64>) -> String {
    ms.and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "never".to_owned())
}

/// The status page. Figures carry `data-` attributes (`data-source`, `data-field`,
/// `data-outcome`) so scripts and tests can read them without parsing the layout.
pub fn render(rows: &[Row], plant: &Plant, now_ms: i64, version: &str) -> String {
    let mut outcomes: Vec<&'static str> = rows
        .iter()
        .flat_map(|r| r.figures.last_hour.keys().copied())
        .collect();
    outcomes.sort_unstable();
    outcomes.dedup();
    let mut page = String::with_capacity(4096);
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"30\">\
         <title>hookgate status</title><style>\
         body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d1d1f}}\
         table{{border-collapse:collapse;margin:1rem 0}}\
         th,td{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}\
         th{{background:#f3f3f3}} td.n{{text-align:right}}\
         .bad{{color:#b00020;font-weight:600}} .ok{{color:#11772d;font-weight:600}}\
         </style></head><body>\n<h1>hookgate status</h1>\n<p>At {} · version {} · refreshes every 30 s</p>\n",
        text(&when(Some(now_ms))),
        text(version)
    );
    let (kafka_class, kafka_text) = match plant.kafka_up {
        Some(true) => ("ok", "reachable"),
        Some(false) => ("bad", "unreachable"),
        None => ("", "not checked yet"),
    };
    let _ = write!(
        page,
        "<h2>Kafka and spool</h2>\n<table id=\"plant\">\
         <tr><th>Kafka</th><td class=\"{kafka_class}\" data-field=\"kafka\">{kafka_text}</td>\
         <td>checked {}</td></tr>\n",
        text(&when(plant.kafka_checked_ms))
    );
    match plant.spool {
        Some((records, bytes, age)) => {
            let _ = writeln!(
                page,
                "<tr><th>Spool</th><td data-field=\"spool_records\" class=\"n\">{records}</td>\
                 <td>records waiting, <span data-field=\"spool_bytes\">{bytes}</span> bytes, \
                 oldest <span data-field=\"spool_age_seconds\">{age}</span> s</td></tr>"
            );
        }
        None => page.push_str(
            "<tr><th>Spool</th><td data-field=\"spool_records\">off</td>\
             <td>no spool configured: when Kafka is down, webhooks get 503</td></tr>\n",
        ),
    }
    page.push_str("</table>\n<h2>Sources</h2>\n<table id=\"sources\">\n<tr><th>source</th><th>provider</th><th>from</th><th>last accepted</th><th>last refused</th>");
    for o in &outcomes {
        let _ = write!(page, "<th>{}<br><small>last hour</small></th>", text(o));
    }
    page.push_str("</tr>\n");
    for row in rows {
        let f = &row.figures;
        let id = attr(&row.id);
        let _ = write!(
            page,
            "<tr data-source=\"{id}\"><td>{}</td><td>{}</td><td>{}</td>\
             <td data-field=\"last_accepted\">{}</td>",
            text(&row.id),
            text(&row.provider),
            if row.read_only {
                "config file"
            } else {
                "admin API"
            },
            text(&when(f.last_accepted_ms)),
        );
        match f.last_refused {
            Some((ms, code)) => {
                let _ = write!(
                    page,
                    "<td data-field=\"last_refused\" data-code=\"{}\" class=\"bad\">{} <code>{}</code></td>",
                    attr(code),
                    text(&when(Some(ms))),
                    text(code)
                );
            }
            None => page.push_str("<td data-field=\"last_refused\">never</td>"),
        }
        for o in &outcomes {
            let n = f.last_hour.get(o).copied().unwrap_or(0);
            let _ = write!(
                page,
                "<td class=\"n\" data-outcome=\"{}\">{n}</td>",
                attr(o)
            );
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</table>\n<p>Read-only. Counts are kept in memory since the gateway started; Prometheus has the long view (<code>/metrics</code> on the ingest listener).</p>\n</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::activity::Activity;
    use std::collections::BTreeMap;

    const MIN: i64 = 60_000;

    #[test]
    fn counts_cover_the_last_hour_and_the_last_answers_are_kept() {
        let a = Activity::default();
        let t0 = 1_800_000_000_000;
        a.record("gh", "accepted", None, t0);
        a.record("gh", "invalid_signature", Some("invalid_signature"), t0 + 1);
        a.record("gh", "accepted", None, t0 + 30 * MIN);
        a.record("gh", "duplicate", None, t0 + 30 * MIN + 5);
        let f = a.figures("gh", t0 + 30 * MIN + 10);
        assert_eq!(f.last_accepted_ms, Some(t0 + 30 * MIN));
        assert_eq!(f.last_refused, Some((t0 + 1, "invalid_signature")));
        assert_eq!(
            f.last_hour,
            BTreeMap::from([("accepted", 2), ("duplicate", 1), ("invalid_signature", 1)])
        );
        // An hour and a bit later the first minute has left the window.
        let later = a.figures("gh", t0 + 61 * MIN);
        assert_eq!(
            later.last_hour,
            BTreeMap::from([("accepted", 1), ("duplicate", 1)])
        );
        // A slot reused after an hour starts from zero.
        a.record("gh", "accepted", None, t0 + 60 * MIN);
        assert_eq!(
            a.figures("gh", t0 + 60 * MIN).last_hour.get("accepted"),
            Some(&2)
        );
        assert_eq!(a.figures("other", t0).last_hour, BTreeMap::new());
    }

    #[test]
    fn the_page_escapes_what_it_shows() {
        let rows = vec![Row {
            id: "a<b".to_owned(),
            provider: "x&y".to_owned(),
            read_only: true,
            figures: SourceFigures {
                last_accepted_ms: None,
                last_refused: Some((0, "invalid_signature")),
                last_hour: BTreeMap::from([("invalid_signature", 3)]),
            },
        }];
        let plant = Plant {
            kafka_up: Some(false),
            kafka_checked_ms: Some(0),
            spool: None,
        };
        let page = render(&rows, &plant, 0, "1.0");
        assert!(
            page.contains("a&lt;b") && page.contains("x&amp;y"),
            "{page}"
        );
        assert!(!page.contains("a<b"));
        assert!(page.contains(r#"data-outcome="invalid_signature">3<"#));
        assert!(page.contains(r#"data-field="kafka">unreachable"#));
    }
}
